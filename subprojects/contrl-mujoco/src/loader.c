/* src/loader.c - compiling MJCF into mjModel, with MuJoCo's messages passed
 * on as libcontrl errors. */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

/* MuJoCo's XML parser and compiler keep state we cannot see; one model is
 * compiled at a time. This mutex is the library's only global object. */
static pthread_mutex_t parser_lock = PTHREAD_MUTEX_INITIALIZER;

/* MuJoCo's default warning handler prints and appends to MUJOCO_LOG.TXT in
 * the current directory. Warnings that matter during simulation are read
 * from mjData's counters instead (env.c), so a quiet handler is installed
 * once, and only when the program has not installed its own. */
static void quiet_warning(const char *msg)
{
    (void)msg;
}

static void install_quiet_warning(void)
{
    if (mju_user_warning == NULL)
        mju_user_warning = quiet_warning;
}

/* MuJoCo's messages sometimes end in newlines, and may quote bytes of the
 * model; keep the text on one line of printable characters. */
static void one_line(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
        s[--n] = '\0';
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
            s[i] = ' ';
}

static contrl_status compile(const char *func, const char *what, const char *path,
                             const mjVFS *vfs, mjModel **out)
{
    char err[1000] = "";
    pthread_mutex_lock(&parser_lock);
    install_quiet_warning();
    mjModel *m = mj_loadXML(path, vfs, err, (int)sizeof err);
    pthread_mutex_unlock(&parser_lock);
    if (m == NULL) {
        char quoted[200];
        one_line(err);
        return contrl_set_error(CONTRL_ERR_FORMAT, "%s: MuJoCo could not load %s: %s", func,
                                contrl_mj__quote(quoted, sizeof quoted, what),
                                err[0] ? err : "(no message)");
    }
    *out = m;
    return CONTRL_OK;
}

contrl_status contrl_mj__load_file(const char *func, const char *path, mjModel **out)
{
    *out = NULL;
    char quoted[200];
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return contrl_set_error(CONTRL_ERR_IO, "%s: cannot open model file %s: %s", func,
                                contrl_mj__quote(quoted, sizeof quoted, path), strerror(errno));
    /* fopen opens a directory for reading too; MuJoCo would then report a
     * parse error (FORMAT) for what is a wrong path. */
    struct stat sb;
    const bool is_dir = fstat(fileno(f), &sb) == 0 && S_ISDIR(sb.st_mode);
    fclose(f);
    if (is_dir)
        return contrl_set_error(CONTRL_ERR_IO, "%s: cannot read model file %s: %s", func,
                                contrl_mj__quote(quoted, sizeof quoted, path), strerror(EISDIR));
    return compile(func, path, path, NULL, out);
}

/* Offset of the first attribute whose name starts with "file" (file of
 * <include>, <mesh>, <hfield>, <skin>, <texture>, and the texture's
 * fileup, fileleft, ...) in the MJCF text, or -1. Such a model reads other
 * files: MuJoCo looks them up in the VFS, then on disk by their own path,
 * so text in memory would read whatever file it names. Attribute names are
 * found lexically: outside comments, CDATA and quoted values, inside a tag,
 * after white space or a closing quote. XML cannot escape a name, so none is
 * missed. */
static long file_attribute(const char *xml, size_t len)
{
    bool in_tag = false;
    char quote = 0;
    for (size_t i = 0; i < len; i++) {
        const char c = xml[i];
        if (quote != 0) {
            if (c == quote)
                quote = 0;
        } else if (!in_tag) {
            if (c != '<')
                continue;
            const char *end = NULL;
            if (strncmp(xml + i, "<!--", 4) == 0)
                end = strstr(xml + i + 4, "-->");
            else if (strncmp(xml + i, "<![CDATA[", 9) == 0)
                end = strstr(xml + i + 9, "]]>");
            else {
                in_tag = true;
                continue;
            }
            if (end == NULL)
                return -1; /* unterminated: MuJoCo's parser refuses it */
            i = (size_t)(end - xml) + 2;
        } else if (c == '>') {
            in_tag = false;
        } else if (c == '"' || c == '\'') {
            quote = c;
        } else if (strncmp(xml + i, "file", 4) == 0 &&
                   (isspace((unsigned char)xml[i - 1]) || xml[i - 1] == '"' ||
                    xml[i - 1] == '\'')) {
            /* MuJoCo's XML parser (tinyxml2) takes isspace() as white space
             * and needs none between a value's closing quote and the next
             * name */
            size_t j = i + 4;
            while (j < len && (isalnum((unsigned char)xml[j]) || xml[j] == '_'))
                j++;
            while (j < len && isspace((unsigned char)xml[j]))
                j++;
            if (j < len && xml[j] == '=')
                return (long)i;
        }
    }
    return -1;
}

contrl_status contrl_mj__load_xml(const char *func, const char *what, const char *xml,
                                  mjModel **out)
{
    *out = NULL;
    size_t len = strlen(xml);
    if (len == 0)
        return contrl_set_error(CONTRL_ERR_FORMAT, "%s: the model text of %s is empty", func,
                                what);
    if (len > (size_t)0x7fffffff - 1)
        return contrl_set_error(CONTRL_ERR_INVALID_ARG, "%s: the model text of %s is too large",
                                func, what);
    const long at = file_attribute(xml, len);
    if (at >= 0) {
        int line = 1;
        for (long k = 0; k < at; k++)
            line += xml[k] == '\n';
        return contrl_set_error(CONTRL_ERR_FORMAT,
                                "%s: %s names a file (attribute \"file...\" on line %d): text "
                                "in memory cannot use other files (load the model with "
                                "contrl_mj_env_from_file)",
                                func, what, line);
    }
    /* mjVFS holds 2000 file names of 1000 bytes: too big for the stack. It
     * is temporary, so it comes from the C library, as MuJoCo's own
     * allocations do. */
    mjVFS *vfs = malloc(sizeof *vfs);
    if (vfs == NULL)
        return contrl_set_error(CONTRL_ERR_NOMEM, "%s: out of memory", func);
    mj_defaultVFS(vfs);
    static const char name[] = "contrl_model.xml";
    if (mj_makeEmptyFileVFS(vfs, name, (int)len) != 0) {
        free(vfs);
        return contrl_set_error(CONTRL_ERR_NOMEM, "%s: out of memory", func);
    }
    int i = mj_findFileVFS(vfs, name);
    memcpy(vfs->filedata[i], xml, len);
    contrl_status st = compile(func, what, name, vfs, out);
    mj_deleteVFS(vfs);
    free(vfs);
    return st;
}
