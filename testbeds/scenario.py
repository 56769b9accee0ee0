#!/usr/bin/env python3
"""scenario.py — reads testbed scenario files (docs/formats/scenario.md) for testbeds/run.

    testbeds/scenario.py [--full] [--set KEY=VALUE]... [--list] FILE

Checks FILE and prints every run of its sweep (one run per combination of the swept values).
Default output, for the shell: one block per run, one `KEY<TAB>VALUE` line per field and an
empty line after each block (values never contain a newline), read with `IFS=$'\\t' read -r`
so that no scenario text is ever evaluated by the shell. Fields: every scenario key (the run's
values), `keys` (the scenario keys in documentation order), `label_values` (the swept values
and the --set overrides, "k=v k=v"), `transfer_count` and `transfer_bytes` (transfer, 0 0 for
none), `message_bytes` and `file`.
--list prints one line per run instead, "FILE: key=value ..." (spaces in values as '_').

Errors name the file and line ("FILE:LINE: ...") or the option ("--set KEY: ..."); exit 2 for
a bad or missing file or option, 1 for an unreadable file. Python 3 standard library only.
"""

import itertools
import os
import re
import sys

# Every key with its default, in documentation order.
DEFAULTS = {
    "name": "", "paper": "", "description": "", "testbed": "netns", "nic": "virtio",
    "background_vms": "0", "busy_vms": "all", "load": "none", "load_threads": "1",
    "probe_count": "200", "probe_interval": "0.25", "probe_rate": "", "probe_size": "100",
    "rest": "20", "transfer": "none", "transfer_dir": "send", "message_size": "65536",
    "mtu": "1500", "pinning": "no", "guest_memory": "256", "boot_timeout": "120",
    "tcpmon": "yes", "gro": "on", "guest_tso": "on",
    "colocate": "no",
}
KEYS = list(DEFAULTS)
# Keys whose value may be a comma-separated list (a sweep).
SWEPT = {"testbed", "nic", "background_vms", "busy_vms", "load", "load_threads", "probe_count",
         "probe_interval", "probe_rate", "probe_size", "rest", "transfer", "transfer_dir",
         "message_size", "mtu", "pinning", "gro", "guest_tso", "colocate"}
# Keys that may be empty.
MAY_BE_EMPTY = {"paper", "description", "probe_rate"}
SPACE = " \t\r\n\v\f"


class ScenarioError(Exception):
    def __init__(self, message, code=2):
        super().__init__(message)
        self.code = code


def size_bytes(text):
    """A size: digits with an optional K, M or G (powers of 1024) and an optional B; or None."""
    m = re.fullmatch(r"([0-9]+)([KMG]?)", re.sub(r"B$", "", text.upper()))
    if not m:
        return None
    return int(m.group(1)) * {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[m.group(2)]


def transfer_count_bytes(text):
    """(count, bytes) of a transfer value; (0, 0) for none; None if malformed."""
    if text == "none":
        return (0, 0)
    m = re.fullmatch(r"bulk\s+(\S+)", text)
    if m:
        size = size_bytes(m.group(1))
        return None if size is None else (1, size)
    m = re.fullmatch(r"([0-9]+)\s*x\s*(\S+)", text)
    if m:
        count, size = int(m.group(1)), size_bytes(m.group(2))
        return None if size is None or count < 1 else (count, size)
    return None


def is_uint(v, lo, hi):
    return re.fullmatch(r"[0-9]+", v) is not None and lo <= int(v) <= hi


def is_pos_num(v):
    return re.fullmatch(r"[0-9]+\.?[0-9]*|\.[0-9]+", v) is not None and float(v) > 0


def value_problem(key, v):
    """Why v (one value, not a list) is bad for key; None when it is good."""
    def one_of(*words):
        return None if v in words else f"{key} must be " + (
            f"{words[0]} or {words[1]}" if len(words) == 2 else "one of " + ", ".join(words))

    if key == "name":
        return None if re.fullmatch(r"[A-Za-z0-9._-]+", v) else \
            "name must be letters, digits, '.', '_' or '-'"
    if key in ("paper", "description"):
        return None
    if key == "testbed":
        return one_of("netns", "qemu")
    if key == "nic":
        return one_of("e1000", "virtio")
    if key == "load":
        return one_of("none", "cpu", "memory", "hd", "io", "network")
    if key in ("background_vms", "rest"):
        return None if is_uint(v, 0, 128) else f"{key} must be an integer from 0 to 128"
    if key == "busy_vms":
        return None if v == "all" or is_uint(v, 0, 128) else \
            "busy_vms must be 'all' or an integer from 0 to 128"
    if key == "load_threads":
        return None if is_uint(v, 1, 64) else "load_threads must be an integer from 1 to 64"
    if key == "probe_count":
        return None if is_uint(v, 0, 10000000) else \
            "probe_count must be an integer from 0 (no probes) to 10000000"
    if key == "probe_size":
        return None if is_uint(v, 0, 65000) else \
            "probe_size must be an integer from 0 to 65000 (bytes)"
    if key == "probe_interval":
        return None if is_pos_num(v) else "probe_interval must be a positive number of seconds"
    if key == "probe_rate":
        return None if is_pos_num(v) else \
            "probe_rate must be a positive number of probes per second"
    if key == "transfer":
        return None if transfer_count_bytes(v) is not None else \
            "transfer must be none, 'bulk SIZE' or 'COUNT x SIZE' (e.g. 1000 x 100KB)"
    if key == "transfer_dir":
        return one_of("send", "recv")
    if key == "message_size":
        b = size_bytes(v)
        return None if b is not None and 1 <= b <= 16777216 else \
            "message_size must be a size from 1 to 16M (e.g. 64KB)"
    if key == "mtu":
        return None if is_uint(v, 68, 65535) else "mtu must be an integer from 68 to 65535"
    if key in ("pinning", "tcpmon", "colocate"):
        return one_of("yes", "no")
    if key in ("gro", "guest_tso"):
        return one_of("on", "off")
    if key == "guest_memory":
        return None if is_uint(v, 64, 65536) else \
            "guest_memory must be an integer from 64 to 65536 (MB)"
    if key == "boot_timeout":
        return None if is_uint(v, 1, 3600) else \
            "boot_timeout must be an integer from 1 to 3600 (seconds)"
    return f"unknown key '{key}'"


def items_of(key, v):
    """The elements of a swept list, trimmed; [v] for one value."""
    if key in SWEPT and "," in v:
        return [item.strip(SPACE) for item in v.split(",")]
    return [v]


class Scenario:
    def __init__(self, path, full, sets):
        self.path = path
        self.values = {}  # key -> value as written (a list keeps its commas)
        self.lines = {}   # key -> line number in the file
        self.set_keys = []  # keys given with --set, in order
        self._read(full)
        self._apply_sets(sets)
        self._finish()

    def fail(self, line, message, where=None):
        where = where or self.path
        raise ScenarioError(f"{where}:{line}: {message}" if line else f"{where}: {message}")

    def check(self, line, key, v, where=None):
        if key not in DEFAULTS:
            self.fail(line, f"unknown key '{key}' (known: {' '.join(KEYS)})", where)
        if key in SWEPT and "," in v:
            for item in items_of(key, v):
                if not item:
                    self.fail(line, f"{key}: empty element in list '{v}'", where)
                why = value_problem(key, item)
                if why:
                    self.fail(line, f"bad value '{item}': {why}", where)
            return
        if not v:
            if key not in MAY_BE_EMPTY:
                self.fail(line, f"{key}: missing value", where)
            return
        why = value_problem(key, v)
        if why:
            self.fail(line, f"bad value '{v}': {why}", where)

    def _read(self, full):
        if not os.path.lexists(self.path):
            raise ScenarioError(f"{self.path}: no such scenario file")
        try:
            with open(self.path, encoding="utf-8", errors="surrogateescape") as f:
                text = f.read()
        except (OSError, UnicodeError) as e:
            raise ScenarioError(f"{self.path}: cannot read the scenario file ({e.strerror or e})",
                                code=1) from None
        full_values = {}
        for lineno, raw in enumerate(text.splitlines(), start=1):
            line = raw.split("#", 1)[0].strip(SPACE)
            if not line:
                continue
            if "=" not in line:
                self.fail(lineno, f"expected 'key = value', got '{line}'")
            key, v = (part.strip(SPACE) for part in line.split("=", 1))
            if key.startswith("full."):
                key = key[len("full."):]
                self.check(lineno, key, v)
                full_values[key] = (v, lineno)
                continue
            self.check(lineno, key, v)
            if key in self.values:
                self.fail(lineno, f"key '{key}' given twice (first on line {self.lines[key]})")
            self.values[key], self.lines[key] = v, lineno
        if full:
            for key, (v, lineno) in full_values.items():
                self.values[key], self.lines[key] = v, lineno

    def _apply_sets(self, sets):
        for kv in sets:
            if "=" not in kv:
                raise ScenarioError(f"--set: expected KEY=VALUE, got '{kv}'")
            key, v = (part.strip(SPACE) for part in kv.split("=", 1))
            if any(c in v for c in "\n\r\0"):
                raise ScenarioError(f"--set {key}: the value has a line break or NUL")
            self.check(None, key, v, where=f"--set {key}")
            self.values[key] = v
            if key in self.set_keys:
                self.set_keys.remove(key)
            self.set_keys.append(key)

    def _finish(self):
        if self.values.get("probe_rate") and self.values.get("probe_interval"):
            self.fail(self.lines.get("probe_rate"), "give probe_rate or probe_interval, not both")
        given_interval = "probe_interval" in self.lines
        for key in KEYS:
            self.values.setdefault(key, DEFAULTS[key])
        if self.values["probe_count"] == "0" and self.values["transfer"] == "none":
            self.fail(self.lines.get("probe_count"), "probe_count = 0 and no transfer: nothing to run")
        # probe_rate wins over the default interval when given.
        if self.values["probe_rate"] and not given_interval:
            self.values["probe_interval"] = ""
        if not self.values["name"]:
            base = os.path.basename(self.path)
            self.values["name"] = base[:-len(".scn")] if base.endswith(".scn") else base

    def runs(self):
        """Each run of the sweep: (its values, the swept (key, value) pairs)."""
        swept = [[(k, item) for item in items_of(k, self.values[k])]
                 for k in KEYS if k in SWEPT and "," in self.values[k]]
        for combo in itertools.product(*swept):
            run = dict(self.values)
            run.update(combo)
            if run["probe_rate"]:
                run["probe_interval"] = "%.6g" % (1 / float(run["probe_rate"]))
            if run["busy_vms"] == "all" or int(run["busy_vms"]) > int(run["background_vms"]):
                run["busy_vms"] = run["background_vms"]
            yield run, list(combo)

    def label_values(self, combo):
        """The swept values, then the --set overrides that are not swept: "k=v k=v"."""
        pairs = list(combo)
        swept_keys = {k for k, _ in combo}
        pairs += [(k, self.values[k]) for k in self.set_keys if k not in swept_keys]
        return " ".join(f"{k}={v}" for k, v in pairs)


def shell_block(sc, run, combo):
    count, size = transfer_count_bytes(run["transfer"])
    fields = [(k, run[k]) for k in KEYS] + [
        ("keys", " ".join(KEYS)),
        ("label_values", sc.label_values(combo)),
        ("transfer_count", str(count)),
        ("transfer_bytes", str(size)),
        ("message_bytes", str(size_bytes(run["message_size"]))),
        ("file", sc.path),
    ]
    return "".join(f"{k}\t{v}\n" for k, v in fields) + "\n"


def list_line(sc, run):
    shown = [k for k in KEYS if k not in ("paper", "description")]
    return sc.path + ":" + "".join(f" {k}={run[k].replace(' ', '_')}" for k in shown) + "\n"


def usage_error(message):
    sys.stderr.write(f"scenario.py: {message}\n"
                     "usage: testbeds/scenario.py [--full] [--set KEY=VALUE]... [--list] FILE\n")
    return 2


def main(argv):
    full, listing, sets, files = False, False, [], []
    args = iter(argv)
    for a in args:
        if a == "--full":
            full = True
        elif a == "--list":
            listing = True
        elif a == "--set":
            kv = next(args, None)
            if kv is None:
                return usage_error("--set needs KEY=VALUE")
            sets.append(kv)
        elif a in ("-h", "--help"):
            sys.stdout.write(__doc__)
            return 0
        elif a.startswith("-") and a != "-":
            return usage_error(f"unknown option '{a}'")
        else:
            files.append(a)
    if len(files) != 1:
        return usage_error("give exactly one scenario FILE")
    try:
        sc = Scenario(files[0], full, sets)
        out = "".join(list_line(sc, run) if listing else shell_block(sc, run, combo)
                      for run, combo in sc.runs())
    except ScenarioError as e:
        sys.stderr.write(f"{e}\n")
        return e.code
    sys.stdout.write(out)
    return 0


if __name__ == "__main__":
    sys.stdout.reconfigure(errors="surrogateescape")
    sys.stderr.reconfigure(errors="surrogateescape")
    sys.exit(main(sys.argv[1:]))
