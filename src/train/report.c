/* RUNDIR/report.html (report.h). Plain HTML and CSS, images and sounds as
 * data: URIs, so the page is one file a user can open, mail or archive. */
#include "train/report.h"

#include "io/png.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    MAX_IMAGES = 6,         /* sample images spread over the run */
    MAX_SOUNDS = 4,         /* per validation shown (the newest, the first) */
    MAX_NAMES = 4096,       /* files of samples/ considered */
    SOUND_BUDGET = 8 << 20, /* bytes of sound embedded in all */
    MAX_EMBED = 64 << 20,   /* a larger file is linked, not embedded */
};

void gw_base64(char *out, const unsigned char *in, size_t n) {
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        const unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = tab[v >> 18], out[o++] = tab[v >> 12 & 63];
        out[o++] = tab[v >> 6 & 63], out[o++] = tab[v & 63];
    }
    if (i < n) {
        const unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0);
        out[o++] = tab[v >> 18], out[o++] = tab[v >> 12 & 63];
        out[o++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
        out[o++] = '=';
    }
    out[o] = 0;
}

/* text with &, <, >, " escaped (file names and messages may hold them) */
static void put_text(FILE *f, const char *s) {
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

/* path's bytes as a data: URI in an attribute; 0 if it cannot be read */
static int put_data_uri(FILE *f, const char *mime, const char *path, size_t *bytes) {
    unsigned char *data = NULL;
    size_t n = 0;
    gw_error e = {0};
    if (gw_read_file(path, MAX_EMBED, "embedded file", &data, &n, &e)) return 0;
    char *b = malloc(4 * (n / 3 + 1) + 1);
    if (!b) {
        free(data);
        return 0;
    }
    gw_base64(b, data, n);
    fprintf(f, "data:%s;base64,%s", mime, b);
    if (bytes) *bytes += n;
    free(b), free(data);
    return 1;
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* the names in dir ending in ext, sorted (step-NNNNNNN names sort by step) */
static char **list_files(const char *dir, const char *ext, int *n) {
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) return NULL;
    char **names = calloc(MAX_NAMES, sizeof *names);
    struct dirent *e;
    const size_t el = strlen(ext);
    while (names && *n < MAX_NAMES && (e = readdir(d))) {
        const size_t l = strlen(e->d_name);
        if (l <= el || strcmp(e->d_name + l - el, ext) || strstr(e->d_name, ".tmp.")) continue;
        if (!(names[*n] = strdup(e->d_name))) break;
        (*n)++;
    }
    closedir(d);
    if (names) qsort(names, (size_t)*n, sizeof *names, by_name);
    return names;
}

static void free_names(char **names, int n) {
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* the step in a sample's name ("step-0000500-2.wav", "recon-0000500.png"):
 * the digits after the first '-'; -1 without */
static long name_step(const char *name) {
    const char *d = strchr(name, '-');
    return d && d[1] >= '0' && d[1] <= '9' ? strtol(d + 1, NULL, 10) : -1;
}

/* one curve of log.csv on its own axes, as RUNDIR/report/NAME.png */
static void put_plot(FILE *f, const gw_trainer_config *c, const char *log, const char *name,
                     int log_y, const char *note) {
    char png[4400];
    snprintf(png, sizeof png, "%s/report/%s.png", c->run_dir, name);
    const char *cols[1] = {name};
    gw_plot_style style = {.title = name, .xlabel = "step", .ylabel = name, .log_y = log_y};
    gw_error e = {0};
    fputs("<figure>", f);
    if (gw_png_plot_csv(png, log, "step", cols, 1, &style, &e) == GW_OK) {
        fputs("<img alt=\"", f);
        put_text(f, name);
        fputs("\" src=\"", f);
        put_data_uri(f, "image/png", png, NULL);
        fputs("\">", f);
    } else {
        fputs("<p class=\"warn\">", f);
        put_text(f, e.msg);
        fputs("</p>", f);
    }
    fputs("<figcaption>", f);
    put_text(f, name);
    if (log_y) fputs(" (log scale)", f);
    if (note && *note) {
        fputs(": ", f);
        put_text(f, note);
    }
    fputs("</figcaption></figure>\n", f);
}

static void put_samples(FILE *f, const char *run_dir) {
    char dir[4300];
    snprintf(dir, sizeof dir, "%s/samples", run_dir);
    int ni = 0, ns = 0;
    char **imgs = list_files(dir, ".png", &ni), **wavs = list_files(dir, ".wav", &ns);
    if (ni > 0) {
        fputs("<h2>Samples over the run</h2>\n<div class=\"grid\">\n", f);
        const int k = ni < MAX_IMAGES ? ni : MAX_IMAGES;
        for (int j = 0; j < k; j++) { /* spread over the run, the first and the last included */
            const int i = k == 1 ? ni - 1 : (int)((long)j * (ni - 1) / (k - 1));
            char path[8400];
            snprintf(path, sizeof path, "%s/%s", dir, imgs[i]);
            fputs("<figure><img alt=\"", f);
            put_text(f, imgs[i]);
            fputs("\" src=\"", f);
            put_data_uri(f, "image/png", path, NULL);
            fputs("\"><figcaption>", f);
            put_text(f, imgs[i]);
            fputs("</figcaption></figure>\n", f);
        }
        fputs("</div>\n<p class=\"note\">Frames left to right, the lowest band at the bottom "
              "(docs/gan.md, docs/vae.md, docs/pixelcnn.md say what each grid holds).</p>\n",
              f);
    }
    if (ns > 0) {
        /* the newest validation's sounds, then the first one's */
        const long last = name_step(wavs[ns - 1]), first = name_step(wavs[0]);
        size_t bytes = 0;
        fputs("<h2>Listen</h2>\n<ul class=\"sounds\">\n", f);
        for (int pass = 0; pass < 2; pass++) {
            const long want = pass ? first : last;
            if (pass && first == last) break;
            for (int i = 0, shown = 0; i < ns && shown < MAX_SOUNDS; i++) {
                if (name_step(wavs[i]) != want) continue;
                char path[8400];
                snprintf(path, sizeof path, "%s/%s", dir, wavs[i]);
                fputs("<li><span>", f);
                put_text(f, wavs[i]);
                fprintf(f, "%s</span> ", pass ? " (first validation)" : "");
                if (bytes < SOUND_BUDGET) {
                    fputs("<audio controls preload=\"metadata\" src=\"", f);
                    put_data_uri(f, "audio/wav", path, &bytes);
                    fputs("\"></audio>", f);
                } else {
                    fputs("<a href=\"samples/", f);
                    put_text(f, wavs[i]);
                    fputs("\">file</a>", f);
                }
                fputs("</li>\n", f);
                shown++;
            }
        }
        fputs("</ul>\n", f);
    }
    free_names(imgs, ni);
    free_names(wavs, ns);
}

static const char *const style_css =
    "body{font-family:sans-serif;max-width:1100px;margin:1.5em auto;padding:0 1em;color:#222}"
    "h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ccc}"
    "table{border-collapse:collapse}td,th{padding:.2em .8em;border-bottom:1px solid #eee;"
    "text-align:left}pre{background:#f6f6f6;padding:.6em;overflow-x:auto;font-size:.85em}"
    ".grid{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0}"
    ".grid img{max-width:340px;image-rendering:pixelated}.curves img{max-width:100%}"
    "figcaption{font-size:.85em;color:#555}.warn{color:#a40}.note{font-size:.85em;color:#555}"
    ".broken{color:#a40;font-weight:bold}ul.sounds{list-style:none;padding:0}"
    "ul.sounds li{margin:.3em 0}ul.sounds span{display:inline-block;min-width:22em}";

/* marks what the browser cannot show or play and counts it for the page's
 * test, synchronously at load (so a headless browser's dump sees the
 * result): images by their decoded size; sounds by reading their WAV
 * header (RIFF/WAVE, a PCM or float fmt chunk, a data chunk that fits),
 * what a decoder checks first (an <audio> element reports a bad file only
 * once played) */
static const char *const check_js =
    "function gwWavOk(src){try{var s=atob(src.slice(src.indexOf(',')+1)),"
    "u32=function(o){return(s.charCodeAt(o)|s.charCodeAt(o+1)<<8|s.charCodeAt(o+2)<<16|"
    "s.charCodeAt(o+3)<<24)>>>0;},u16=function(o){return s.charCodeAt(o)|s.charCodeAt(o+1)<<8;};"
    "if(s.slice(0,4)!=='RIFF'||s.slice(8,12)!=='WAVE')return false;var o=12,fmt=false;"
    "while(o+8<=s.length){var id=s.slice(o,o+4),n=u32(o+4);"
    "if(id==='fmt '){var f=u16(o+8),c=u16(o+10),r=u32(o+12),b=u16(o+22);"
    "fmt=(f===1||f===3||f===0xfffe)&&c>=1&&c<=8&&r>=1000&&r<=768000&&"
    "(b===16||b===24||b===32);}"
    "if(id==='data')return fmt&&o+8+n<=s.length+1;o+=8+n+(n&1);}return false;}"
    "catch(e){return false;}}"
    "window.addEventListener('load',function(){var broken=0,b=document.body,"
    "mark=function(el,what){broken++;var p=document.createElement('span');"
    "p.className='broken';p.textContent=' could not be '+what;el.after(p);};"
    "var imgs=document.querySelectorAll('img'),snds=document.querySelectorAll('audio');"
    "imgs.forEach(function(i){if(!i.complete||i.naturalWidth===0)mark(i,'shown');});"
    "snds.forEach(function(a){if(!gwWavOk(a.getAttribute('src')))mark(a,'played');});"
    "b.dataset.images=imgs.length;b.dataset.sounds=snds.length;"
    "b.dataset.broken=broken;b.dataset.checked='1';});";

gw_status gw_train_report_write(const gw_trainer_config *c, const gw_trainer_result *res,
                                uint64_t step, double elapsed_s, gw_error *err) {
    char dir[4300], path[4300];
    snprintf(dir, sizeof dir, "%s/report", c->run_dir);
    gw_status st = gw_mkdirs(dir, "report folder", err);
    if (st) return st;
    snprintf(path, sizeof path, "%s/report.html", c->run_dir);
    gw_afile af;
    if ((st = gw_afile_open(&af, path, err))) return st;
    FILE *f = af.fp;
    char t1[32], t2[32];
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
               "<title>genwave run ");
    put_text(f, c->run_dir);
    fprintf(f, "</title><style>%s</style><script>%s</script></head>\n<body>\n", style_css,
            check_js);
    fputs("<h1>Training run <code>", f);
    put_text(f, c->run_dir);
    fputs("</code></h1>\n<table>\n", f);
    fprintf(f, "<tr><th>steps</th><td>%llu of %llu%s</td></tr>\n", (unsigned long long)step,
            (unsigned long long)c->max_steps,
            c->max_minutes > 0 ? " (or the time limit, whichever comes first)" : "");
    if (c->max_minutes > 0)
        fprintf(f, "<tr><th>time limit</th><td>%s of this session</td></tr>\n",
                gw_trainer_format_duration(t2, sizeof t2, c->max_minutes * 60));
    fprintf(f, "<tr><th>elapsed</th><td>%s</td></tr>\n",
            gw_trainer_format_duration(t1, sizeof t1, elapsed_s));
    if (res->resumed_from)
        fprintf(f, "<tr><th>resumed</th><td>from step %llu</td></tr>\n",
                (unsigned long long)res->resumed_from);
    if (c->best_figure >= 0 && !isnan(res->best_value)) {
        const char *bn = c->val_figure_names[c->best_figure];
        fputs("<tr><th>held-out ", f);
        put_text(f, bn);
        fprintf(f,
                "</th><td>untrained %.4g, best %.4g at step %llu (best.gwm), last %.4g</td></tr>\n",
                res->val_first[c->best_figure], res->best_value, (unsigned long long)res->best_step,
                res->val_figures[c->best_figure]);
    }
    fprintf(f, "<tr><th>warnings</th><td>%d", res->warnings);
    if (res->warnings) {
        fputs(" (the last: <span class=\"warn\">", f);
        put_text(f, res->warning);
        fputs("</span>)", f);
    }
    fputs("</td></tr>\n</table>\n", f);
    if (c->intro && *c->intro) {
        fputs("<h2>Data</h2>\n<pre>", f);
        put_text(f, c->intro);
        fputs("</pre>\n", f);
    }
    fputs("<h2>Curves</h2>\n<div class=\"grid curves\">\n", f);
    for (int i = 0; i < c->n_figures; i++)
        put_plot(f, c, res->log_path, c->figure_names[i], i == c->grad_figure, NULL);
    for (int i = 0; i < c->n_val_figures; i++) {
        char note[160] = "";
        if (i == c->best_figure && !isnan(res->best_value))
            snprintf(note, sizeof note, "held out, best %.4g at step %llu", res->best_value,
                     (unsigned long long)res->best_step);
        else
            snprintf(note, sizeof note, "held out");
        put_plot(f, c, res->log_path, c->val_figure_names[i], 0, note);
    }
    fputs("</div>\n", f);
    put_samples(f, c->run_dir);
    fputs("<h2>Files</h2>\n<ul>\n", f);
    static const char *const files[] = {"model.gwm", "best.gwm", "checkpoint.gwm", "log.csv",
                                        "loss.png"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char p[4400];
        snprintf(p, sizeof p, "%s/%s", c->run_dir, files[i]);
        FILE *x = fopen(p, "rb");
        if (x) fclose(x);
        if (x)
            fprintf(f, "<li><a href=\"%s\">%s</a></li>\n", files[i], files[i]);
        else if (i == 0) /* the trainers write it once the loop has ended */
            fprintf(f, "<li>%s (when the run ends)</li>\n", files[i]);
    }
    fputs("</ul>\n<p class=\"note\">Written by genwave at each checkpoint; reload to see the "
          "run so far.</p>\n</body></html>\n",
          f);
    return gw_afile_commit(&af, err);
}
