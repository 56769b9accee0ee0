#!/usr/bin/env python3
"""Checks that libvmdelay's includes point one way (lib/layers.txt) and form no cycle.

A file under lib/L/ or include/vmdelay/L/ belongs to layer L. It may include a header of a
layer with a lower rank; a header of the same folder; nothing else of lib. Modules (x.c with
its x.h) must form no include cycle, also across the programs' folders (analyze/, tping/, ...).
Exit 0 when clean, 1 with one line per violation."""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def read_ranks():
    ranks = {}
    with open(os.path.join(ROOT, 'lib', 'layers.txt')) as f:
        for line in f:
            line = line.split('#', 1)[0].split()
            if len(line) >= 2:
                ranks[line[0]] = int(line[1])
    return ranks


def source_files():
    skip = {'build', '.git', 'kmod', 'docs'}
    for top, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in skip and not d.startswith('.')]
        for name in files:
            if name.endswith(('.c', '.h')):
                yield os.path.relpath(os.path.join(top, name), ROOT)


def resolve(path, target):
    """The repository path an include names, or None when it is a system header."""
    for base in (os.path.dirname(path), 'include', 'lib'):
        candidate = os.path.normpath(os.path.join(base, target))
        if os.path.isfile(os.path.join(ROOT, candidate)):
            return candidate
    return None


def layer_of(path):
    parts = path.split(os.sep)
    if parts[0] == 'lib' and len(parts) == 3:
        return parts[1]
    if parts[:2] == ['include', 'vmdelay'] and len(parts) == 4:
        return parts[2]
    return None


def module_of(path):
    """x.c and x.h of one folder (and a public header beside its lib/L/x.c) are one module."""
    layer = layer_of(path)
    stem = os.path.splitext(os.path.basename(path))[0]
    if layer:
        return 'lib/%s/%s' % (layer, stem)
    return os.path.join(os.path.dirname(path), stem)


def find_cycles(graph):
    """Every group of modules that include each other in a ring (Tarjan's strongly connected
    components with more than one member)."""
    index, low, on_stack, stack, groups = {}, {}, set(), [], []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def main():
    ranks = read_ranks()
    problems = []
    graph = {}
    for path in sorted(source_files()):
        with open(os.path.join(ROOT, path), encoding='utf-8', errors='replace') as f:
            text = f.read()
        mine = layer_of(path)
        if path.startswith('lib' + os.sep) and mine not in ranks:
            problems.append('%s: not in a layer folder listed in lib/layers.txt' % path)
            continue
        for target in INCLUDE.findall(text):
            dep = resolve(path, target)
            if dep is None:
                continue
            theirs = layer_of(dep)
            if mine and theirs and theirs != mine and ranks[theirs] >= ranks[mine]:
                problems.append('%s: includes %s, but %s (rank %d) may not use %s (rank %d)'
                                % (path, target, mine, ranks[mine], theirs, ranks[theirs]))
            a, b = module_of(path), module_of(dep)
            if a != b:
                graph.setdefault(a, set()).add(b)
    for group in find_cycles(graph):
        problems.append('include cycle among: ' + ', '.join(group))
    for p in problems:
        print('layers: ' + p)
    if problems:
        return 1
    print('layers: %d folders, includes point one way, no cycle' % len(ranks))
    return 0


if __name__ == '__main__':
    sys.exit(main())
