/*
 * tools/svg.h - a small line-chart writer producing standalone SVG 1.1, used
 * by the contrl command to draw learning curves. No dependencies beyond the
 * C library; nothing is allocated (the chart points at the caller's arrays).
 *
 * A chart has a title, axis labels and up to SVG_MAX_SERIES series. Each
 * series is a line through (x[i], y[i]) and, if y_lo and y_hi are given, a
 * shaded band between them (mean +- std, say). Non-finite y values break the
 * line. Axis ranges cover every finite value of every series, widened to
 * "nice" tick values (1, 2, 2.5 or 5 times a power of ten).
 */
#ifndef CONTRL_TOOLS_SVG_H
#define CONTRL_TOOLS_SVG_H

#include <stddef.h>
#include <stdio.h>

#define SVG_MAX_SERIES 8

typedef struct svg_series {
    const char *label;   /* legend text (UTF-8, escaped on output); NULL: not in the legend */
    const double *x;     /* n values */
    const double *y;     /* n values; NULL with a band draws the band alone */
    const double *y_lo;  /* both NULL, or n values each: the band's edges */
    const double *y_hi;
    size_t n;
    const char *color;   /* any SVG colour, e.g. "#1f77b4" (not escaped) */
    double width;        /* stroke width in px; 0 means 1.5 */
    double opacity;      /* line opacity in (0, 1]; 0 means 1 */
    double band_opacity; /* band fill opacity; 0 means 0.2 */
    int markers;         /* draw a dot at every point with a finite y */
} svg_series;

typedef struct svg_chart {
    const char *title;   /* may be NULL */
    const char *xlabel;  /* may be NULL */
    const char *ylabel;  /* may be NULL */
    double width;        /* px; 0 means 800 */
    double height;       /* px; 0 means 500 */
    const svg_series *series;
    size_t n_series;     /* at most SVG_MAX_SERIES */
    int x_include_zero;  /* widen the x range to include 0 (step counts) */
    const char *empty_note; /* shown in the plot area when no series has a
                               finite point; may be NULL */
} svg_chart;

/* Write the chart as a standalone SVG document to f. Returns 0, or -1 if
 * the chart is invalid (too many series, NULL arrays with n > 0) or a
 * write failed. */
int svg_write_chart(FILE *f, const svg_chart *chart);

/* The same into a new file at path (replaced if it exists). Returns 0, or
 * -1 with errno describing the failure (EINVAL for an invalid chart). */
int svg_save_chart(const char *path, const svg_chart *chart);

#endif /* CONTRL_TOOLS_SVG_H */
