/*
 * files.c -- the file resources of mcpd.conf: a file, or a directory tree
 * served as one resource per file plus a {+path} template, read on demand
 * and watched with inotify, so a change of a file reaches the clients
 * subscribed to it (notifications/resources/updated) and a file that comes
 * or goes changes the list (notifications/resources/list_changed).
 *
 * A read never leaves the resource's root, whatever happens meanwhile in
 * the tree: the file is opened beneath a descriptor of the root with
 * openat2(2) RESOLVE_BENEATH and RESOLVE_NO_SYMLINKS (a component-wise
 * O_NOFOLLOW walk where the kernel has no openat2), non-blocking, and only
 * a regular file is read (a FIFO or a device answers "not found" at once).
 * Names that begin with a dot are neither listed nor read unless the
 * resource says dot-files yes.
 */
#include "config.h"

#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include <linux/openat2.h>

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
#define RESCAN_DELAY_MS		100	/* after a name comes or goes, quiet */
#define OPEN_FLAGS	(O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)

struct file_res {
	const struct conf_resource	*f_conf;
	char				 f_root[PATH_MAX]; /* realpath */
	int				 f_dir;
	int				 f_rootfd;	/* a directory's, O_PATH */
};

struct watch {
	int		 w_wd;
	char		*w_dir;		/* real path of the directory */
	struct file_res	*w_res;
};

static struct mcp_server	*files_srv;
static const struct conf	*files_conf;	/* of the current load */
static ev_timer			 rescan_to;
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

/* a name mcpd keeps to itself: "." first, unless the resource says */
static int
hidden(const struct file_res *f, const char *name)
{
	return name[0] == '.' && !f->f_conf->r_dot_files;
}

/*
 * The path behind uri, relative to the root of a directory resource: no
 * "..", no empty or hidden component.  NULL when uri is not beneath it.
 */
static const char *
rel_path(const struct file_res *f, const char *uri)
{
	const char	*rel, *c;
	size_t		 rl = strlen(f->f_conf->r_uri), n;

	if (strncmp(uri, f->f_conf->r_uri, rl) != 0)
		return NULL;
	rel = uri + rl;
	if (*rel == '\0' || strchr(rel, '\\') != NULL)
		return NULL;
	for (c = rel; *c != '\0'; c += n + (c[n] == '/')) {
		n = strcspn(c, "/");
		if (n == 0 || (n == 2 && c[0] == '.' && c[1] == '.') ||
		    (n == 1 && c[0] == '.') || hidden(f, c))
			return NULL;
	}
	return rel;
}

/*
 * Open rel beneath dirfd without following a symbolic link anywhere: by
 * openat2(2), or where the kernel has none, one component at a time.
 */
static int
open_beneath(int dirfd, const char *rel)
{
	struct open_how	 how;
	char		 comp[NAME_MAX + 1];
	const char	*c;
	size_t		 n;
	int		 fd, next;

	memset(&how, 0, sizeof(how));
	how.flags = OPEN_FLAGS;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
	    RESOLVE_NO_MAGICLINKS;
	if ((fd = (int)syscall(SYS_openat2, dirfd, rel, &how,
	    sizeof(how))) != -1 || errno != ENOSYS)
		return fd;
	if ((fd = dup(dirfd)) == -1)
		return -1;
	for (c = rel; ; c += n + 1) {
		if ((n = strcspn(c, "/")) > NAME_MAX) {
			close(fd);
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(comp, c, n);
		comp[n] = '\0';
		next = openat(fd, comp, c[n] == '\0' ? OPEN_FLAGS | O_NOFOLLOW :
		    O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		if (next == -1 || c[n] == '\0')
			return next;
		fd = next;
	}
}

/* The file of uri, opened: a regular file of the resource, or -1. */
static int
file_open(const struct file_res *f, const char *uri, struct stat *st)
{
	const char	*rel;
	int		 fd;

	if (!f->f_dir) {
		if (strcmp(uri, f->f_conf->r_uri) != 0)
			return -1;
		fd = open(f->f_root, OPEN_FLAGS | O_NOFOLLOW);
	} else if (f->f_rootfd == -1 || (rel = rel_path(f, uri)) == NULL)
		return -1;
	else
		fd = open_beneath(f->f_rootfd, rel);
	if (fd == -1)
		return -1;
	if (fstat(fd, st) == -1 || !S_ISREG(st->st_mode)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
file_read(struct mcpd_call *c, const char *uri, void *arg)
{
	const struct file_res	*f = arg;
	const char		*mime;
	struct stat		 st;
	struct jw		 w;
	char			*buf = NULL;
	ssize_t			 n;
	size_t			 got = 0;
	int			 fd;

	if ((fd = file_open(f, uri, &st)) == -1) {
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
	mime = f->f_conf->r_mime ? f->f_conf->r_mime :
	    mime_of(f->f_dir ? uri : f->f_root);
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
	/*
	 * One event per finished write (or rename into place), not per
	 * write(2); and the names that come and go, for the list.
	 */
	wd = inotify_add_watch(ino_fd, dir, IN_CLOSE_WRITE | IN_MOVED_TO |
	    IN_MOVED_FROM | IN_CREATE | IN_DELETE);
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
		if (watches[i].w_res->f_dir && hidden(watches[i].w_res,
		    ev->name))
			continue;
		/* a name came or went: the list follows, once it is quiet */
		if (watches[i].w_res->f_dir && (ev->mask & (IN_CREATE |
		    IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO))) {
			ev_timer_stop(files_srv->sv_loop, &rescan_to);
			ev_timer_set(&rescan_to, RESCAN_DELAY_MS / 1000.0, 0.);
			ev_timer_start(files_srv->sv_loop, &rescan_to);
		}
		if (!(ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO)))
			continue;
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

	if (mcpd_register_resource(h, &r) == -1)
		return -1;
	/* a directory's scope is each file's */
	return cat_scope_last(&h->h_srv->sv_cat, MCPD_ITEM_RESOURCE,
	    f->f_conf->r_scope);
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
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 || hidden(f, de->d_name))
			continue;
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

static void
rescan_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	char err[128];

	if (files_conf == NULL)
		return;
	cat_drop_owner(&files_srv->sv_cat, CAT_FILES);
	files_unload();
	if (files_load(files_srv, files_conf, err, sizeof(err)) == -1)
		log_warnx("file resources: %s", err);
	mcp_notify(files_srv, "notifications/resources/list_changed", NULL);
}

int
files_load(struct mcp_server *srv, const struct conf *conf, char *err,
    size_t errlen)
{
	struct mcpd_host	 hst = { srv, "mcpd.conf", CAT_FILES };
	struct mcpd_host	*host = &hst;
	uint32_t		 i;

	files_srv = srv;
	files_conf = conf;
	if (conf->c_nresources > 0 && ino_fd == -1) {
		if ((ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1)
			log_warn("inotify: resources will not notify changes");
		else {
			ev_io_init(&ino_ev, ino_cb, ino_fd, EV_READ);
			ev_io_start(srv->sv_loop, &ino_ev);
			ev_unref(srv->sv_loop);
			ev_timer_init(&rescan_to, rescan_cb, 0., 0.);
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
		f->f_rootfd = -1;
		if (realpath(cr->r_path, f->f_root) == NULL ||
		    stat(f->f_root, &st) == -1) {
			/* gone since the supervisor looked: nothing served */
			log_warnx("resource %s: %s: %s", cr->r_uri, cr->r_path,
			    strerror(errno));
			continue;
		}
		f->f_dir = S_ISDIR(st.st_mode);
		if (f->f_dir) {
			struct mcpd_resource	t;
			char			tmpl[PATH_MAX];

			/* what is read is beneath this, whatever moves */
			if ((f->f_rootfd = open(f->f_root, O_PATH | O_DIRECTORY |
			    O_CLOEXEC)) == -1) {
				log_warn("resource %s: %s", cr->r_uri,
				    f->f_root);
				continue;
			}
			walk(host, f, f->f_root, 0, &count);
			snprintf(tmpl, sizeof(tmpl), "%s{+path}", cr->r_uri);
			memset(&t, 0, sizeof(t));
			t.uri = tmpl;
			t.name = cr->r_name ? cr->r_name : cr->r_uri;
			t.description = cr->r_desc;
			t.mime_type = cr->r_mime;
			t.read = file_read;
			t.arg = f;
			if (mcpd_register_template(host, &t) == 0 &&
			    cat_scope_last(&srv->sv_cat, MCPD_ITEM_TEMPLATE,
			    cr->r_scope) == -1)
				goto nomem;
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
	for (i = 0; i < nfiles; i++) {
		if (files[i]->f_rootfd != -1)
			close(files[i]->f_rootfd);
		free(files[i]);
	}
	free(files);
	files = NULL;
	nfiles = 0;
}
