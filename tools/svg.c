/* tools/svg.c - standalone SVG 1.1 line charts (see svg.h). */
#include "svg.h"

#include <errno.h>
#include <math.h>
#include <string.h>

enum { MAX_TICKS = 12 };

typedef struct axis {
    double lo, hi, step; /* range, already widened to multiples of step */
} axis;

typedef struct frame {
    double left, top, width, height; /* plot area in px */
    axis x, y;
} frame;

/* Write s with XML's five special characters escaped. */
static void put_text(FILE *f, const char *s)
{
    for (; s != NULL && *s != '\0'; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        default: fputc(*s, f);
        }
    }
}

/* Smallest of 1, 2, 2.5, 5 (times a power of ten) that is >= raw. */
static double nice_step(double raw)
{
    double p = pow(10.0, floor(log10(raw)));
    static const double m[] = {1.0, 2.0, 2.5, 5.0, 10.0};
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (m[i] * p >= raw * (1.0 - 1e-9))
            return m[i] * p;
    return 10.0 * p;
}

/* Widen [lo, hi] to multiples of a nice step giving at most MAX_TICKS ticks. */
static axis make_axis(double lo, double hi)
{
    if (!(hi - lo > 1e-12 * fmax(1.0, fmax(fabs(lo), fabs(hi))))) {
        double pad = fmax(fabs(lo) * 0.1, 1.0);
        lo -= pad;
        hi += pad;
    }
    axis a;
    for (double target = 5.0;; target -= 1.0) {
        a.step = nice_step((hi - lo) / target);
        a.lo = floor(lo / a.step + 1e-9) * a.step;
        a.hi = ceil(hi / a.step - 1e-9) * a.step;
        if ((a.hi - a.lo) / a.step + 1.0 <= MAX_TICKS + 0.5 || target <= 1.0)
            break;
    }
    return a;
}

/* Tick label: plain decimals with as few digits as the step needs, and a
 * k or M suffix on axes whose values reach 10,000. */
static void format_tick(char *buf, size_t size, double v, const axis *a)
{
    double big = fmax(fabs(a->lo), fabs(a->hi)), scale = 1.0;
    const char *suffix = "";
    if (big >= 1e6) {
        scale = 1e6;
        suffix = "M";
    } else if (big >= 1e4) {
        scale = 1e3;
        suffix = "k";
    }
    double step = a->step / scale;
    int dec = 0;
    while (dec < 6) {
        double s = step * pow(10.0, dec);
        if (fabs(s - round(s)) <= 1e-6 * fmax(1.0, s))
            break;
        dec++;
    }
    v /= scale;
    if (fabs(v) < step * 1e-9) { /* "0", not "-0" or "0k" */
        snprintf(buf, size, "0");
        return;
    }
    snprintf(buf, size, "%.*f%s", dec, v, suffix);
}

static int n_ticks(const axis *a)
{
    return (int)lround((a->hi - a->lo) / a->step) + 1;
}

static double tick(const axis *a, int k)
{
    return a->lo + a->step * k; /* by index: repeated += would drift */
}

static double px(const frame *fr, double x)
{
    return fr->left + (x - fr->x.lo) / (fr->x.hi - fr->x.lo) * fr->width;
}

static double py(const frame *fr, double y)
{
    return fr->top + (fr->y.hi - y) / (fr->y.hi - fr->y.lo) * fr->height;
}

static void widen(double v, double *lo, double *hi)
{
    if (isfinite(v)) {
        *lo = fmin(*lo, v);
        *hi = fmax(*hi, v);
    }
}

static int valid(const svg_chart *c)
{
    if (c == NULL || c->n_series > SVG_MAX_SERIES || (c->n_series > 0 && c->series == NULL))
        return 0;
    for (size_t i = 0; i < c->n_series; i++) {
        const svg_series *s = &c->series[i];
        if ((s->y_lo == NULL) != (s->y_hi == NULL))
            return 0;
        if (s->n > 0 && (s->x == NULL || (s->y == NULL && s->y_lo == NULL)))
            return 0;
    }
    return 1;
}

static void draw_band(FILE *f, const frame *fr, const svg_series *s)
{
    double op = s->band_opacity > 0.0 ? s->band_opacity : 0.2;
    size_t i = 0;
    while (i < s->n) {
        /* one closed shape per run of points with finite x, lo and hi */
        size_t a = i;
        while (a < s->n && !(isfinite(s->x[a]) && isfinite(s->y_lo[a]) && isfinite(s->y_hi[a])))
            a++;
        size_t b = a;
        while (b < s->n && isfinite(s->x[b]) && isfinite(s->y_lo[b]) && isfinite(s->y_hi[b]))
            b++;
        if (a == b)
            break;
        if (b - a == 1) { /* a lone point: a vertical bar */
            fprintf(f, "<path d=\"M%.2f %.2fL%.2f %.2f\" stroke=\"%s\" stroke-opacity=\"%.3g\" "
                       "stroke-width=\"6\" fill=\"none\"/>\n",
                    px(fr, s->x[a]), py(fr, s->y_hi[a]), px(fr, s->x[a]), py(fr, s->y_lo[a]),
                    s->color, op);
        } else {
            fputs("<path d=\"", f);
            for (size_t k = a; k < b; k++)
                fprintf(f, "%s%.2f %.2f", k == a ? "M" : "L", px(fr, s->x[k]), py(fr, s->y_hi[k]));
            for (size_t k = b; k-- > a;)
                fprintf(f, "L%.2f %.2f", px(fr, s->x[k]), py(fr, s->y_lo[k]));
            fprintf(f, "Z\" fill=\"%s\" fill-opacity=\"%.3g\" stroke=\"none\"/>\n", s->color, op);
        }
        i = b;
    }
}

static void draw_line(FILE *f, const frame *fr, const svg_series *s)
{
    double width = s->width > 0.0 ? s->width : 1.5;
    double op = s->opacity > 0.0 ? s->opacity : 1.0;
    int pen_down = 0, any = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (!isfinite(s->x[i]) || !isfinite(s->y[i])) {
            pen_down = 0; /* a gap */
            continue;
        }
        if (!any)
            fputs("<path d=\"", f);
        fprintf(f, "%s%.2f %.2f", pen_down ? "L" : "M", px(fr, s->x[i]), py(fr, s->y[i]));
        pen_down = any = 1;
    }
    if (any)
        fprintf(f, "\" fill=\"none\" stroke=\"%s\" stroke-opacity=\"%.3g\" stroke-width=\"%.3g\" "
                   "stroke-linejoin=\"round\" stroke-linecap=\"round\"/>\n",
                s->color, op, width);
    if (s->markers)
        for (size_t i = 0; i < s->n; i++)
            if (isfinite(s->x[i]) && isfinite(s->y[i]))
                fprintf(f, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"%.3g\" fill=\"%s\" "
                           "fill-opacity=\"%.3g\"/>\n",
                        px(fr, s->x[i]), py(fr, s->y[i]), width + 1.5, s->color, op);
}

/* Legend entries laid out in rows left to right; returns the row count.
 * Text width is estimated (no font metrics in a plain writer). */
static int layout_legend(const svg_chart *c, double x0, double max_x, double *xs, int *rows)
{
    int row = 0;
    double x = x0;
    for (size_t i = 0; i < c->n_series; i++) {
        const char *label = c->series[i].label;
        if (label == NULL)
            continue;
        size_t chars = 0;
        for (const unsigned char *p = (const unsigned char *)label; *p; p++)
            chars += (*p & 0xC0) != 0x80; /* count UTF-8 characters, not bytes */
        double w = 30.0 + 6.6 * (double)chars + 18.0;
        if (x > x0 && x + w > max_x) {
            row++;
            x = x0;
        }
        xs[i] = x;
        rows[i] = row;
        x += w;
    }
    return row + 1;
}

int svg_write_chart(FILE *f, const svg_chart *c)
{
    if (f == NULL || !valid(c))
        return -1;
    const double W = c->width > 0.0 ? c->width : 800.0;
    const double H = c->height > 0.0 ? c->height : 500.0;

    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    for (size_t i = 0; i < c->n_series; i++) {
        const svg_series *s = &c->series[i];
        for (size_t k = 0; k < s->n; k++) {
            if (!isfinite(s->x[k]))
                continue;
            int seen = 0;
            if (s->y != NULL && isfinite(s->y[k])) {
                widen(s->y[k], &ylo, &yhi);
                seen = 1;
            }
            if (s->y_lo != NULL && isfinite(s->y_lo[k]) && isfinite(s->y_hi[k])) {
                widen(s->y_lo[k], &ylo, &yhi);
                widen(s->y_hi[k], &ylo, &yhi);
                seen = 1;
            }
            if (seen)
                widen(s->x[k], &xlo, &xhi);
        }
    }
    const int empty = !(xlo <= xhi);
    if (empty) {
        xlo = ylo = 0.0;
        xhi = yhi = 1.0;
    }
    if (c->x_include_zero) {
        xlo = fmin(xlo, 0.0);
        xhi = fmax(xhi, 0.0);
    }

    frame fr;
    fr.left = 78.0;
    double right = 28.0, bottom = 58.0;
    double legend_x[SVG_MAX_SERIES];
    int legend_row[SVG_MAX_SERIES];
    int n_rows = layout_legend(c, fr.left, W - right, legend_x, legend_row);
    double legend_y = c->title != NULL ? 52.0 : 22.0;
    fr.top = legend_y + 18.0 * n_rows;
    fr.width = W - fr.left - right;
    fr.height = H - fr.top - bottom;
    fr.x = make_axis(xlo, xhi);
    fr.y = make_axis(ylo, yhi);

    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%.0f\" "
               "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" "
               "font-size=\"12\">\n",
            W, H, W, H);
    if (c->title != NULL) {
        fputs("<title>", f);
        put_text(f, c->title);
        fputs("</title>\n", f);
    }
    fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#ffffff\"/>\n", W, H);
    if (c->title != NULL) {
        fprintf(f, "<text x=\"%.2f\" y=\"28\" text-anchor=\"middle\" font-size=\"16\" "
                   "font-weight=\"bold\">",
                W / 2.0);
        put_text(f, c->title);
        fputs("</text>\n", f);
    }

    /* grid and tick labels */
    char buf[64];
    const int nx = n_ticks(&fr.x), ny = n_ticks(&fr.y);
    fputs("<g stroke=\"#dddddd\" stroke-width=\"1\">\n", f);
    for (int k = 0; k < nx; k++) {
        double x = px(&fr, tick(&fr.x, k));
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", x, fr.top, x,
                fr.top + fr.height);
    }
    for (int k = 0; k < ny; k++) {
        double y = py(&fr, tick(&fr.y, k));
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", fr.left, y,
                fr.left + fr.width, y);
    }
    fputs("</g>\n<g fill=\"#333333\">\n", f);
    for (int k = 0; k < nx; k++) {
        format_tick(buf, sizeof buf, tick(&fr.x, k), &fr.x);
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">%s</text>\n",
                px(&fr, tick(&fr.x, k)), fr.top + fr.height + 18.0, buf);
    }
    for (int k = 0; k < ny; k++) {
        format_tick(buf, sizeof buf, tick(&fr.y, k), &fr.y);
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"end\">%s</text>\n", fr.left - 8.0,
                py(&fr, tick(&fr.y, k)) + 4.0, buf);
    }
    fputs("</g>\n", f);
    if (c->xlabel != NULL) {
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" font-size=\"13\">",
                fr.left + fr.width / 2.0, H - 14.0);
        put_text(f, c->xlabel);
        fputs("</text>\n", f);
    }
    if (c->ylabel != NULL) {
        fprintf(f, "<text transform=\"translate(18 %.2f) rotate(-90)\" text-anchor=\"middle\" "
                   "font-size=\"13\">",
                fr.top + fr.height / 2.0);
        put_text(f, c->ylabel);
        fputs("</text>\n", f);
    }

    /* bands under lines, series in order */
    for (size_t i = 0; i < c->n_series; i++)
        if (c->series[i].y_lo != NULL)
            draw_band(f, &fr, &c->series[i]);
    for (size_t i = 0; i < c->n_series; i++)
        if (c->series[i].y != NULL)
            draw_line(f, &fr, &c->series[i]);
    if (empty && c->empty_note != NULL) {
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" fill=\"#888888\">",
                fr.left + fr.width / 2.0, fr.top + fr.height / 2.0);
        put_text(f, c->empty_note);
        fputs("</text>\n", f);
    }
    fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"none\" "
               "stroke=\"#333333\" stroke-width=\"1\"/>\n",
            fr.left, fr.top, fr.width, fr.height);

    /* legend: a swatch (band square and/or line) and the label */
    for (size_t i = 0; i < c->n_series; i++) {
        const svg_series *s = &c->series[i];
        if (s->label == NULL)
            continue;
        double x = legend_x[i], y = legend_y + 18.0 * legend_row[i] - 4.0;
        if (s->y_lo != NULL)
            fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"24\" height=\"12\" fill=\"%s\" "
                       "fill-opacity=\"%.3g\"/>\n",
                    x, y - 6.0, s->color, s->band_opacity > 0.0 ? s->band_opacity : 0.2);
        if (s->y != NULL)
            fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" "
                       "stroke-opacity=\"%.3g\" stroke-width=\"%.3g\"/>\n",
                    x, y, x + 24.0, y, s->color, s->opacity > 0.0 ? s->opacity : 1.0,
                    s->width > 0.0 ? s->width : 1.5);
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\">", x + 30.0, y + 4.0);
        put_text(f, s->label);
        fputs("</text>\n", f);
    }
    fputs("</svg>\n", f);
    return ferror(f) ? -1 : 0;
}

int svg_save_chart(const char *path, const svg_chart *chart)
{
    if (path == NULL || !valid(chart)) {
        errno = EINVAL;
        return -1;
    }
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    int rc = svg_write_chart(f, chart);
    int saved = errno;
    if (fclose(f) != 0 && rc == 0)
        return -1;
    if (rc != 0)
        errno = saved != 0 ? saved : EIO;
    return rc;
}
