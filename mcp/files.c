/*
 * files.c -- the file resources of mcpd.conf: a file, or a directory tree
 * served as one resource per file plus a {+path} template, read on demand
 * and watched with inotify, so a change reaches the clients subscribed to
 * it (notifications/resources/updated).
 *
 * A read never leaves the resource's root: ".." is refused, and symbolic
 * links are resolved before the check.
 */
#include "config.h"

#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "mcp_int.h"

#define DIR_FILES_MAX		10000	/* files listed per directory resource */
#define DIR_DEPTH_MAX		16	/* levels of a directory resource */
#define WATCHES_MAX		4096	/* inotify watches per worker */
#define INOTIFY_READ_BYTES	16384	/* bytes of events read at once */

struct file_res {
	const struct conf_resource	*f_conf;
	char				 f_root[PATH_MAX]; /* realpath */
	int				 f_dir;
};

struct watch {
	int		 w_wd;
	char		*w_dir;		/* real path of the directory */
	struct file_res	*w_res;
};

static struct mcp_server	*files_srv;
static struct file_res		**files;	/* of the current load */
static size_t			 nfiles;
static int			 ino_fd = -1;
static ev_io			 ino_ev;
static struct watch		 watches[WATCHES_MAX];
static int			 nwatches;

static const char *
mime_of(const char *path)
{
	static const struct {
		const char *ext, *mime;
	} types[] = {
		{ ".txt", "text/plain" }, { ".md", "text/markdown" },
		{ ".html", "text/html" }, { ".htm", "text/html" },
		{ ".css", "text/css" }, { ".csv", "text/csv" },
		{ ".c", "text/x-c" }, { ".h", "text/x-c" },
		{ ".py", "text/x-python" }, { ".sh", "text/x-shellscript" },
		{ ".js", "text/javascript" }, { ".json", "application/json" },
		{ ".xml", "application/xml" }, { ".yaml", "application/yaml" },
		{ ".yml", "application/yaml" }, { ".toml", "application/toml" },
		{ ".conf", "text/plain" }, { ".log", "text/plain" },
		{ ".png", "image/png" }, { ".jpg", "image/jpeg" },
		{ ".jpeg", "image/jpeg" }, { ".gif", "image/gif" },
		{ ".svg", "image/svg+xml" }, { ".webp", "image/webp" },
		{ ".pdf", "application/pdf" }, { ".wav", "audio/wav" },
		{ ".mp3", "audio/mpeg" }, { ".gz", "application/gzip" },
		{ ".zip", "application/zip" }
	};
	const char	*dot = strrchr(path, '.'), *slash = strrchr(path, '/');
	size_t		 i;

	if (dot == NULL || (slash != NULL && dot < slash))
		return "application/octet-stream";
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcasecmp(dot, types[i].ext) == 0)
			return types[i].mime;
	return "application/octet-stream";
}

static int
is_text(const char *mime)
{
	return strncmp(mime, "text/", 5) == 0 ||
	    strcmp(mime, "application/json") == 0 ||
	    strcmp(mime, "application/xml") == 0 ||
	    strcmp(mime, "application/yaml") == 0 ||
	    strcmp(mime, "application/toml") == 0 ||
	    strcmp(mime, "image/svg+xml") == 0;
}

/* The file behind uri, inside the resource's root; -1 when not. */
static int
file_path(const struct file_res *f, const char *uri, char *out,
    size_t outlen)
{
	const char	*rel;
	char		 joined[PATH_MAX];
	size_t		 rl;

	if (!f->f_dir) {
		if (strcmp(uri, f->f_conf->r_uri) != 0)
			return -1;
		snprintf(out, outlen, "%s", f->f_root);
		return 0;
	}
	rl = strlen(f->f_conf->r_uri);
	if (strncmp(uri, f->f_conf->r_uri, rl) != 0)
		return -1;
	rel = uri + rl;
	if (*rel == '\0' || *rel == '/' || strstr(rel, "..") != NULL ||
	    strchr(rel, '\\') != NULL)
		return -1;
	if ((size_t)snprintf(joined, sizeof(joined), "%s/%s", f->f_root,
	    rel) >= sizeof(joined))
		return -1;
	/* symbolic links must not lead out of the root either */
	if (realpath(joined, out) == NULL || strlen(out) >= outlen ||
	    strncmp(out, f->f_root, strlen(f->f_root)) != 0 ||
	    out[strlen(f->f_root)] != '/')
		return -1;
	return 0;
}

static void
file_read(struct mcpd_call *c, const char *uri, void *arg)
{
	const struct file_res	*f = arg;
	const char		*mime;
	struct stat		 st;
	struct jw		 w;
	char			 path[PATH_MAX], *buf = NULL;
	ssize_t			 n;
	size_t			 got = 0;
	int			 fd;

	if (file_path(f, uri, path, sizeof(path)) == -1 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		mcpd_call_error(c, MCP_RESOURCE_NOT_FOUND,
		    "Resource not found");
		return;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		mcpd_call_error(c, MCP_RESOURCE_NOT_FOUND,
		    "Resource not found");
		return;
	}
	if ((uint64_t)st.st_size > f->f_conf->r_size_max) {
		close(fd);
		mcpd_call_error(c, JSONRPC_INVALID_PARAMS,
		    "resource larger than its max-size");
		return;
	}
	if ((buf = malloc(st.st_size + 1)) == NULL) {
		close(fd);
		mcpd_call_error(c, JSONRPC_INTERNAL_ERROR, "out of memory");
		return;
	}
	while (got < (size_t)st.st_size &&
	    (n = read(fd, buf + got, st.st_size - got)) > 0)
		got += n;
	close(fd);
	mime = f->f_conf->r_mime ? f->f_conf->r_mime : mime_of(path);
	jw_init(&w);
	jw_obj(&w);
	jw_key(&w, "contents");
	jw_arr(&w);
	jw_obj(&w);
	jw_key(&w, "uri");
	jw_str(&w, uri);
	jw_key(&w, "mimeType");
	jw_str(&w, mime);
	if (is_text(mime)) {
		jw_key(&w, "text");
		jw_strn(&w, buf, got);
	} else {
		jw_key(&w, "blob");
		jw_base64(&w, buf, got);
	}
	jw_obj_end(&w);
	jw_arr_end(&w);
	jw_obj_end(&w);
	free(buf);
	/* how long a client may keep it (stateless era) */
	c->c_read_ttl_ms = f->f_conf->r_cache_ttl_ms;
	c->c_read_public = f->f_conf->r_cache_public;
	if (w.err)
		mcpd_call_error(c, JSONRPC_INTERNAL_ERROR, "out of memory");
	else
		call_result_raw(c, w.buf, w.len);
	jw_free(&w);
}

static void
watch_dir(struct file_res *f, const char *dir)
{
	int wd;

	if (ino_fd == -1 || nwatches == WATCHES_MAX)
		return;
	/* one event per finished write (or rename into place), not per write(2) */
	wd = inotify_add_watch(ino_fd, dir, IN_CLOSE_WRITE | IN_MOVED_TO |
	    IN_DELETE);
	if (wd == -1) {
		log_warn("inotify %s", dir);
		return;
	}
	watches[nwatches].w_wd = wd;
	watches[nwatches].w_dir = strdup(dir);
	watches[nwatches].w_res = f;
	nwatches++;
}

static void
ino_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	char				 buf[INOTIFY_READ_BYTES];
	char				 path[PATH_MAX * 2];
	char				 uri[PATH_MAX * 2];
	const struct inotify_event	*ev;
	ssize_t				 n;
	int				 i;

	n = read(ino_fd, buf, sizeof(buf));
	if (n <= 0)
		return;
	for (char *p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
		ev = (const struct inotify_event *)p;
		for (i = 0; i < nwatches; i++)
			if (watches[i].w_wd == ev->wd)
				break;
		if (i == nwatches || ev->len == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", watches[i].w_dir,
		    ev->name);
		if (!watches[i].w_res->f_dir) {
			if (strcmp(path, watches[i].w_res->f_root) == 0)
				mcp_resource_updated(files_srv,
				    watches[i].w_res->f_conf->r_uri);
			continue;
		}
		snprintf(uri, sizeof(uri), "%s%s",
		    watches[i].w_res->f_conf->r_uri,
		    path + strlen(watches[i].w_res->f_root) + 1);
		mcp_resource_updated(files_srv, uri);
	}
}

static int
register_file(struct mcpd_host *h, struct file_res *f, const char *path,
    const char *uri)
{
	const char		*base = strrchr(path, '/');
	struct mcpd_resource	 r = {
		.uri = uri,
		.name = f->f_conf->r_name && !f->f_dir ? f->f_conf->r_name :
		    (base ? base + 1 : path),
		.description = f->f_dir ? NULL : f->f_conf->r_desc,
		.mime_type = f->f_conf->r_mime ? f->f_conf->r_mime :
		    mime_of(path),
		.read = file_read,
		.arg = f
	};

	return mcpd_register_resource(h, &r);
}

static void
walk(struct mcpd_host *h, struct file_res *f, const char *dir, int depth,
    unsigned *count)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;
	char		 path[PATH_MAX], uri[PATH_MAX * 2];

	if (depth > DIR_DEPTH_MAX || (d = opendir(dir)) == NULL)
		return;
	watch_dir(f, dir);
	while ((de = readdir(d)) != NULL && *count < DIR_FILES_MAX) {
		if (de->d_name[0] == '.')
			continue;	/* hidden files, "." and ".." */
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    de->d_name) >= sizeof(path) || lstat(path, &st) == -1)
			continue;
		if (S_ISDIR(st.st_mode))
			walk(h, f, path, depth + 1, count);
		else if (S_ISREG(st.st_mode)) {
			snprintf(uri, sizeof(uri), "%s%s", f->f_conf->r_uri,
			    path + strlen(f->f_root) + 1);
			if (register_file(h, f, path, uri) == 0)
				(*count)++;
		}
	}
	closedir(d);
}

int
files_load(struct mcp_server *srv, struct mcpd_host *host,
    const struct conf *conf, char *err, size_t errlen)
{
	uint32_t i;

	files_srv = srv;
	if (conf->c_nresources > 0 && ino_fd == -1) {
		if ((ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1)
			log_warn("inotify: resources will not notify changes");
		else {
			ev_io_init(&ino_ev, ino_cb, ino_fd, EV_READ);
			ev_io_start(srv->sv_loop, &ino_ev);
			ev_unref(srv->sv_loop);
		}
	}
	for (i = 0; i < conf->c_nresources; i++) {
		const struct conf_resource	*cr = &conf->c_resources[i];
		struct file_res			*f;
		struct stat			 st;
		struct file_res			**nf;
		unsigned			 count = 0;

		if ((f = calloc(1, sizeof(*f))) == NULL)
			goto nomem;
		if ((nf = realloc(files, (nfiles + 1) * sizeof(*nf))) == NULL) {
			free(f);
			goto nomem;
		}
		files = nf;
		files[nfiles++] = f;
		f->f_conf = cr;
		if (realpath(cr->r_path, f->f_root) == NULL ||
		    stat(f->f_root, &st) == -1) {
			/* missing now; served once it appears after a reload */
			log_warnx("resource %s: %s: %s", cr->r_uri, cr->r_path,
			    strerror(errno));
			continue;
		}
		f->f_dir = S_ISDIR(st.st_mode);
		if (f->f_dir) {
			struct mcpd_resource	t;
			char			tmpl[PATH_MAX];

			walk(host, f, f->f_root, 0, &count);
			snprintf(tmpl, sizeof(tmpl), "%s{+path}", cr->r_uri);
			memset(&t, 0, sizeof(t));
			t.uri = tmpl;
			t.name = cr->r_name ? cr->r_name : cr->r_uri;
			t.description = cr->r_desc;
			t.mime_type = cr->r_mime;
			t.read = file_read;
			t.arg = f;
			mcpd_register_template(host, &t);
		} else {
			char dir[PATH_MAX], *slash;

			register_file(host, f, f->f_root, cr->r_uri);
			snprintf(dir, sizeof(dir), "%s", f->f_root);
			if ((slash = strrchr(dir, '/')) != NULL)
				*slash = slash == dir ? '/' : '\0';
			if (slash == dir)
				dir[1] = '\0';
			watch_dir(f, dir);
		}
	}
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

void
files_unload(void)
{
	size_t	i;
	int	k;

	for (k = 0; k < nwatches; k++) {
		inotify_rm_watch(ino_fd, watches[k].w_wd);
		free(watches[k].w_dir);
	}
	nwatches = 0;
	for (i = 0; i < nfiles; i++)
		free(files[i]);
	free(files);
	files = NULL;
	nfiles = 0;
}
