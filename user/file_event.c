#include <errno.h>
#include <string.h>
#include "file_event.h"

int am_path_join(const char *base, const char *rel, char *out, size_t outsz)
{
	size_t o = 0;
	const char *parts[2] = { rel[0] == '/' ? "" : base, rel };

	if (outsz < 2)
		return -ENAMETOOLONG;
	out[o++] = '/';
	for (int k = 0; k < 2; k++) {
		const char *s = parts[k];
		while (*s) {
			while (*s == '/')
				s++;
			const char *e = s;
			while (*e && *e != '/')
				e++;
			size_t n = (size_t)(e - s);
			if (n == 0 || (n == 1 && s[0] == '.')) {
				/* nothing */
			} else if (n == 2 && s[0] == '.' && s[1] == '.') {
				/* back to the previous '/', never above the root */
				if (o > 1) {
					o--;
					while (o > 1 && out[o - 1] != '/')
						o--;
					if (o > 1)
						o--;
				}
			} else {
				if (o > 1) {
					if (o + 1 >= outsz)
						return -ENAMETOOLONG;
					out[o++] = '/';
				}
				if (o + n >= outsz)
					return -ENAMETOOLONG;
				memcpy(out + o, s, n);
				o += n;
			}
			s = e;
		}
	}
	out[o] = 0;
	return 0;
}

static const char *const op_names[AM_FOP_MAX] = {
	[AM_FOP_OPEN] = "open", [AM_FOP_UNLINK] = "unlink", [AM_FOP_RMDIR] = "rmdir",
	[AM_FOP_MKDIR] = "mkdir", [AM_FOP_RENAME] = "rename", [AM_FOP_CHMOD] = "chmod",
	[AM_FOP_CHOWN] = "chown", [AM_FOP_TRUNCATE] = "truncate", [AM_FOP_LINK] = "link",
	[AM_FOP_SYMLINK] = "symlink",
};

/* The event kinds of SPEC: creating or changing content is an `open` for
 * write, removing a name is `unlink`, attribute changes are `chmod`. */
static const char *const op_kinds[AM_FOP_MAX] = {
	[AM_FOP_OPEN] = "open", [AM_FOP_UNLINK] = "unlink", [AM_FOP_RMDIR] = "unlink",
	[AM_FOP_MKDIR] = "open", [AM_FOP_RENAME] = "rename", [AM_FOP_CHMOD] = "chmod",
	[AM_FOP_CHOWN] = "chmod", [AM_FOP_TRUNCATE] = "open", [AM_FOP_LINK] = "open",
	[AM_FOP_SYMLINK] = "open",
};

/* A length from the kernel, checked against its field. */
static int field(const char *f, uint32_t len, char *tmp)
{
	if (len >= AM_PATH_MAX)
		return -EINVAL;
	memcpy(tmp, f, len);
	tmp[len] = 0;
	return 0;
}

int am_file_record(struct am_record *r, const struct am_file_body *b, size_t avail,
		   struct am_file_names *names)
{
	static char base[AM_PATH_MAX], name[AM_PATH_MAX];
	size_t need = offsetof(struct am_file_body, path);

	if (avail < need || b->op == 0 || b->op >= AM_FOP_MAX || b->path_len >= AM_PATH_MAX)
		return -EINVAL;
	r->file_op = op_names[b->op];
	r->kind = op_kinds[b->op];
	r->access = (b->access & AM_ACC_WRITE) ? "write" : "read";
	r->path2 = NULL;

	if (b->op == AM_FOP_OPEN || b->upath_len == 0) {
		/* the kernel's own resolved path: opens, fd-based operations */
		if (avail < need + b->path_len)
			return -EINVAL;
		if (field(b->path, b->path_len, names->path))
			return -EINVAL;
		r->path = names->path;
		return 0;
	}
	if (avail < sizeof(*b))
		return -EINVAL;
	if (field(b->path, b->path_len, base) || field(b->upath, b->upath_len, name))
		return -EINVAL;
	if (b->op == AM_FOP_SYMLINK) {
		/* the written name is the link (path2/upath2); the target is text */
		if (field(b->path2, b->path2_len, base) || field(b->upath2, b->upath2_len, name))
			return -EINVAL;
		if (am_path_join(base, name, names->path, sizeof(names->path)))
			return -EINVAL;
		r->path = names->path;
		return 0;
	}
	if (am_path_join(base, name, names->path, sizeof(names->path)))
		return -EINVAL;
	r->path = names->path;
	if (b->op == AM_FOP_RENAME || b->op == AM_FOP_LINK) {
		if (field(b->path2, b->path2_len, base) || field(b->upath2, b->upath2_len, name))
			return -EINVAL;
		if (am_path_join(base, name, names->path2, sizeof(names->path2)))
			return -EINVAL;
		r->path2 = names->path2;
		/* link: the existing file is only referenced, the new name is written */
	}
	return 0;
}
