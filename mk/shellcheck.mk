# shellcheck: every shell script of the tree (*.sh, *.bash and files whose first line is a sh or
# bash shebang, e.g. testbeds/run, .ci/run and the guest's busybox scripts) with no error and no
# warning. `make check` runs it first.
SHELLCHECK_DIRS := testbeds tests mk .ci
SHELLCHECK_FILES = $(sort \
	$(shell find $(SHELLCHECK_DIRS) -type f \( -name '*.sh' -o -name '*.bash' \) 2>/dev/null) \
	$(shell find $(SHELLCHECK_DIRS) -type f -exec awk \
		'FNR == 1 && /^\#!.*[\/ ](ba|da)?sh( |$$)/ { print FILENAME } { nextfile }' {} + 2>/dev/null))

.PHONY: shellcheck
shellcheck: deps
	@shellcheck --severity=warning --external-sources --source-path=SCRIPTDIR $(SHELLCHECK_FILES)
	@echo "shellcheck: $(words $(SHELLCHECK_FILES)) scripts, no error or warning"

check: shellcheck
