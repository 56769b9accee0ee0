# same-output: builds BASE_REV and NEW_REV (default: the commit before the lib/ restructure and
# the working tree), runs every tool on the same inputs with each and diffs the outputs byte for
# byte (tests/compat/README.md). Not part of `make check`: later changes alter outputs on purpose.
#   make same-output [BASE_REV=REV] [NEW_REV=REV]
.PHONY: same-output
same-output: deps
	tests/compat/same_output.sh '$(BASE_REV)' '$(NEW_REV)'
