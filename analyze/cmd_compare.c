/* cmd_compare.c — `vmdelay-analyze compare`: the per-layer Δ table (median and p99) side by side
 * across the runs and testbeds stored in one store (an SQLite file or a PostgreSQL database). Text:
 * one column pair per group; --csv / --json: one row per group and result (long format, easier to
 * load elsewhere);
 * --plot DIR: a gnuplot script and its data, rendered to SVG when gnuplot is installed. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commands.h"
#include "vmdelay/core/cli.h"
#include "vmdelay/out/afile.h"
#include "vmdelay/store/compare.h"
#include "vmdelay/out/output.h"
#include "vmdelay/store/store.h"

extern char **environ;

static const char usage[] =
    "usage: vmdelay-analyze compare --db STORE [--by KEYS] [--metric GLOB] [--phase PHASE]\n"
    "                               [--csv | --json] [-o FILE] [--plot DIR]\n"
    "\n"
    "Per-layer delay results (median and p99) of the runs stored in STORE, side by side.\n"
    "\n"
    "  --db STORE      the store written by tping, vmdelay-analyze and testbeds/run: an\n"
    "                  SQLite file or a postgresql:// URL (read only, never migrated)\n"
    "  --by KEYS       group runs by these keys, comma-separated, from testbed, scenario,\n"
    "                  load, label, run or any run metadata key (--meta KEY=VALUE of the\n"
    "                  tools; testbeds/run stores scenario.KEY for every scenario key)\n"
    "                  (default testbed,scenario,load); a group's value is the median over\n"
    "                  its runs\n"
    "  --metric GLOB   only metrics matching GLOB (e.g. 'delta_*')\n"
    "  --phase PHASE   only results of this phase (rest-pre, load, rest-post, ...)\n"
    "  --csv, --json   one row per group and result instead of the side-by-side table\n"
    "  -o FILE         write there instead of stdout\n"
    "  --plot DIR      write compare.dat and compare.gp there (and compare.svg with gnuplot)\n"
    "  -h, --help      this text\n"
    "      --version   version\n";

static void print_text(struct vd_out *o, const struct vd_compare *c)
{
	char name[256], key[300];
	for (size_t r = 0; r < c->nrows; r++) {
		const struct vd_compare_row *row = &c->rows[r];
		vd_out_row_begin(o);
		vd_out_str(o, "metric", row->metric);
		vd_out_str(o, "vantage", row->vantage);
		vd_out_str(o, "phase", row->phase);
		vd_out_str(o, "direction", row->direction);
		for (size_t g = 0; g < c->ngroups; g++) {
			const struct vd_compare_cell *cell = vd_compare_cell(c, r, g);
			vd_compare_group_name(c, g, name, sizeof(name));
			snprintf(key, sizeof(key), "%s median_ns", name);
			vd_out_ns(o, key, cell->median);
			snprintf(key, sizeof(key), "%s p99_ns", name);
			vd_out_ns(o, key, cell->p99);
		}
		vd_out_row_end(o);
	}
}

static void print_long(struct vd_out *o, const struct vd_compare *c)
{
	for (size_t g = 0; g < c->ngroups; g++)
		for (size_t r = 0; r < c->nrows; r++) {
			const struct vd_compare_cell *cell = vd_compare_cell(c, r, g);
			const struct vd_compare_row *row = &c->rows[r];
			if (cell->runs == 0)
				continue;
			vd_out_row_begin(o);
			for (size_t k = 0; k < c->opts.nby; k++)
				vd_out_str(o, vd_compare_by_name(&c->opts, k), c->group_keys[g][k]);
			vd_out_str(o, "metric", row->metric);
			vd_out_str(o, "vantage", row->vantage);
			vd_out_str(o, "phase", row->phase);
			vd_out_str(o, "direction", row->direction);
			vd_out_int(o, "runs", (int64_t)cell->runs);
			vd_out_ns(o, "median_ns", cell->median);
			vd_out_ns(o, "p99_ns", cell->p99);
			vd_out_row_end(o);
		}
}

/* Writes DIR/compare.dat (one line per result row, medians in µs per group) and compare.gp
 * (a clustered bar chart), and runs gnuplot on it when gnuplot is in PATH. */
static int write_plot(const char *dir, const struct vd_compare *c)
{
	if (mkdir(dir, 0777) && errno != EEXIST) {
		fprintf(stderr, "vmdelay-analyze compare: --plot %s: %s\n", dir, strerror(errno));
		return -1;
	}
	char path[4096], name[256];
	snprintf(path, sizeof(path), "%s/compare.dat", dir);
	struct vd_afile af;
	struct vd_err err;
	if (vd_afile_open(&af, path, &err)) {
		fprintf(stderr, "vmdelay-analyze compare: --plot: %s\n", err.msg);
		return -1;
	}
	FILE *f = af.f;
	fprintf(f, "# row");
	for (size_t g = 0; g < c->ngroups; g++) {
		vd_compare_group_name(c, g, name, sizeof(name));
		fprintf(f, "\t\"%s\"", name);
	}
	fprintf(f, "\n");
	for (size_t r = 0; r < c->nrows; r++) {
		const struct vd_compare_row *row = &c->rows[r];
		fprintf(f, "\"%s %s %s %s\"", row->metric, row->vantage, row->phase,
			row->direction);
		for (size_t g = 0; g < c->ngroups; g++) {
			const struct vd_compare_cell *cell = vd_compare_cell(c, r, g);
			if (vd_ns_valid(cell->median))
				fprintf(f, "\t%.3f", (double)cell->median / 1000.0);
			else
				fprintf(f, "\tNaN");
		}
		fprintf(f, "\n");
	}
	snprintf(path, sizeof(path), "%s/compare.gp", dir);
	if (vd_afile_commit(&af, &err) || vd_afile_open(&af, path, &err)) {
		fprintf(stderr, "vmdelay-analyze compare: --plot: %s\n", err.msg);
		return -1;
	}
	f = af.f;
	fprintf(f, "# Median per result and group, in microseconds (vmdelay-analyze compare).\n"
		   "set terminal svg size 1200,600 dynamic\n"
		   "set output 'compare.svg'\n"
		   "set style data histograms\n"
		   "set style histogram clustered gap 1\n"
		   "set style fill solid 0.8 border -1\n"
		   "set ylabel 'median (us)'\n"
		   "set xtics rotate by -30\n"
		   "set key outside top center horizontal\n"
		   "set datafile missing 'NaN'\n");
	fprintf(f, "plot ");
	for (size_t g = 0; g < c->ngroups; g++)
		fprintf(f, "%s'compare.dat' using %zu:xtic(1) title columnhead(%zu)", g ? ", " : "",
			g + 2, g + 2);
	if (c->ngroups == 0)
		fprintf(f, "0 notitle");
	fprintf(f, "\n");
	if (vd_afile_commit(&af, &err)) {
		fprintf(stderr, "vmdelay-analyze compare: --plot: %s\n", err.msg);
		return -1;
	}
	/* gnuplot is optional: without it the script and data are the plot. */
	pid_t pid;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	char *argv[] = {"sh", "-c",
			"cd \"$0\" && command -v gnuplot >/dev/null && gnuplot compare.gp",
			(char *)dir, NULL};
	int rc = posix_spawn(&pid, "/bin/sh", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	int status = 0;
	if (rc == 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0)
		fprintf(stderr, "vmdelay-analyze compare: plot in %s/compare.svg\n", dir);
	else
		fprintf(stderr,
			"vmdelay-analyze compare: plot data and script in %s (gnuplot not run)\n",
			dir);
	return 0;
}

int cmd_compare(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"db", required_argument, NULL, 'd'},     {"by", required_argument, NULL, 'b'},
	    {"metric", required_argument, NULL, 'm'}, {"phase", required_argument, NULL, 'p'},
	    {"csv", no_argument, NULL, 'C'},	      {"json", no_argument, NULL, 'J'},
	    {"plot", required_argument, NULL, 'P'},   {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},      {NULL, 0, NULL, 0},
	};
	const char *db_path = NULL, *by = "testbed,scenario,load", *plot = NULL, *out_path = NULL;
	enum vd_out_mode mode = VD_OUT_TEXT;
	struct vd_compare_opts opts = {0};
	struct vd_err err;
	struct vd_cli cli;
	int c, csv = 0, json = 0;
	vd_cli_init(&cli, "vmdelay-analyze compare", usage, argc, argv, "ho:", longopts);
	while ((c = vd_cli_next(&cli)) != VD_CLI_END) {
		switch (c) {
		case VD_CLI_EXIT:
			return cli.status;
		case 'd':
			db_path = cli.arg;
			break;
		case 'b':
			by = cli.arg;
			break;
		case 'm':
			opts.metric = cli.arg;
			break;
		case 'p':
			opts.phase = cli.arg;
			break;
		case 'C':
			csv = 1;
			mode = VD_OUT_CSV;
			break;
		case 'J':
			json = 1;
			mode = VD_OUT_JSON;
			break;
		case 'P':
			plot = cli.arg;
			break;
		case 'o':
			out_path = cli.arg;
			break;
		}
	}
	if (vd_cli_exclusive(&cli, "--csv", csv, "--json", json))
		return cli.status;
	if (optind < argc)
		return vd_cli_usage_error(&cli, "unexpected argument '%s'", argv[optind]);
	if (!db_path)
		return vd_cli_usage_error(&cli, "--db STORE is required");
	if (vd_compare_parse_by(by, &opts, &err))
		return vd_cli_usage_error(&cli, "%s", err.msg);
	/* Comparing never creates a database: a missing file is a mistyped path. */
	if (!vd_store_path_is_pg(db_path) && access(db_path, F_OK)) {
		fprintf(stderr, "vmdelay-analyze compare: --db %s: %s\n", db_path, strerror(errno));
		return VD_EXIT_RUNTIME;
	}
	struct vd_store *st;
	if (vd_store_open_readonly(db_path, &st, &err)) {
		fprintf(stderr, "vmdelay-analyze compare: %s\n", err.msg);
		return VD_EXIT_RUNTIME;
	}
	/* a --by key no run has is a usage error, in the format of the others */
	if (vd_compare_check_by(st, &opts, &err)) {
		vd_store_close(st);
		return vd_cli_usage_error(&cli, "%s", err.msg);
	}
	struct vd_compare *cmp;
	if (vd_compare_query(st, &opts, &cmp, &err)) {
		fprintf(stderr, "vmdelay-analyze compare: %s\n", err.msg);
		vd_store_close(st);
		return VD_EXIT_RUNTIME;
	}
	int rc = VD_EXIT_OK;
	if (cmp->nrows == 0)
		fprintf(stderr, "vmdelay-analyze compare: %s: no stored results%s%s%s%s\n",
			vd_store_name(st), opts.metric ? " for metric " : "",
			opts.metric ? opts.metric : "", opts.phase ? " in phase " : "",
			opts.phase ? opts.phase : "");
	vd_store_close(st);
	FILE *f = stdout;
	struct vd_afile af;
	if (out_path) {
		if (vd_afile_open(&af, out_path, &err)) {
			fprintf(stderr, "vmdelay-analyze compare: -o %s\n", err.msg);
			vd_compare_free(cmp);
			return VD_EXIT_RUNTIME;
		}
		f = af.f;
	}
	struct vd_out *o = vd_out_create(f, mode);
	int werr = 0;
	if (!o) {
		fprintf(stderr, "vmdelay-analyze compare: out of memory\n");
		rc = VD_EXIT_RUNTIME;
	} else {
		if (mode == VD_OUT_TEXT)
			print_text(o, cmp);
		else
			print_long(o, cmp);
		/* a write error names the file: below for -o, in vd_cli_exit for stdout */
		werr = vd_out_destroy(o);
		if (werr && !ferror(f))
			fprintf(stderr, "vmdelay-analyze compare: out of memory\n");
		if (werr)
			rc = VD_EXIT_RUNTIME;
	}
	if (out_path) {
		/* the reason of a failed write (ENOSPC...) is named; out of memory was said above
		 */
		int io_err = ferror(f), was_ok = rc == VD_EXIT_OK;
		if (vd_afile_finish(&af, !was_ok, &err)) {
			if (io_err || was_ok)
				fprintf(stderr, "vmdelay-analyze compare: %s\n", err.msg);
			rc = VD_EXIT_RUNTIME;
		}
	}
	if (rc == VD_EXIT_OK && plot && write_plot(plot, cmp))
		rc = VD_EXIT_RUNTIME;
	vd_compare_free(cmp);
	return rc;
}
