# format-check: every C file as clang-format (.clang-format at the root) would write it.
# `make format` rewrites them in place. make check runs format-check.
FORMAT_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)

.PHONY: format format-check
format:
	@clang-format -i $(FORMAT_FILES)

format-check:
	@bad=0; for f in $(FORMAT_FILES); do \
		clang-format "$$f" | cmp -s - "$$f" || { echo "format-check: $$f differs from clang-format's layout (make format)"; bad=1; }; \
	done; \
	[ $$bad = 0 ] && echo "format-check: $(words $(FORMAT_FILES)) files formatted"

check: format-check
