# scenario.sh — reads testbed scenario files (docs/formats/scenario.md): `key = value` lines,
# '#' comments, comma-separated lists that sweep (one run per combination), `full.KEY = value`
# lines that replace KEY under --full. Sourced by testbeds/run (bash 4+).
#
#   scn_load FILE FULL SET...   parse FILE into the associative array SCN (FULL: 1 applies the
#                               full.* lines; each SET is KEY=VALUE from --set); on error prints
#                               "FILE:LINE: ..." and returns 2 (bad or missing file) or 1
#                               (unreadable)
#   scn_runs                    prints one line per run of the sweep: KEY=VALUE;KEY=VALUE...
#   scn_apply LINE              sets RUN[key] for every key from SCN, then the sweep values of LINE

declare -gA SCN=() SCN_LINE=() RUN=()
SCN_FILE=

# Every key, its default and its kind (checked by scn_check_value). Order = documentation order.
SCN_KEYS=(name paper description testbed nic background_vms busy_vms load load_threads
	probe_count probe_interval probe_rate probe_size rest transfer transfer_dir message_size
	mtu pinning guest_memory boot_timeout tcpmon)
declare -gA SCN_DEFAULT=(
	[name]= [paper]= [description]= [testbed]=netns [nic]=virtio [background_vms]=0
	[busy_vms]=all [load]=none [load_threads]=1 [probe_count]=200 [probe_interval]=0.25
	[probe_rate]= [probe_size]=100 [rest]=20 [transfer]=none [transfer_dir]=send
	[message_size]=65536 [mtu]=1500 [pinning]=no [guest_memory]=256 [boot_timeout]=120
	[tcpmon]=yes
)
# Keys whose value may be a comma-separated list (a sweep).
SCN_SWEEP=" testbed nic background_vms busy_vms load load_threads probe_count probe_interval "
SCN_SWEEP+="probe_rate probe_size rest transfer transfer_dir message_size mtu pinning "

scn_err() { # LINE MESSAGE
	if [ -n "$1" ]; then
		printf '%s:%s: %s\n' "$SCN_FILE" "$1" "$2" >&2
	else
		printf '%s: %s\n' "$SCN_FILE" "$2" >&2
	fi
}

scn_trim() {
	local s=$1
	s=${s#"${s%%[![:space:]]*}"}
	s=${s%"${s##*[![:space:]]}"}
	printf '%s' "$s"
}

# A size: digits with an optional K, M or G (powers of 1024), B optional: 100KB, 1M, 1500.
scn_size_bytes() {
	local v=${1^^} n mult=1
	v=${v%B}
	[[ $v =~ ^([0-9]+)([KMG]?)$ ]] || return 1
	n=${BASH_REMATCH[1]}
	case ${BASH_REMATCH[2]} in
	K) mult=1024 ;;
	M) mult=$((1024 * 1024)) ;;
	G) mult=$((1024 * 1024 * 1024)) ;;
	esac
	echo $((10#$n * mult))
}

scn_is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }
scn_is_pos_num() { [[ $1 =~ ^([0-9]+\.?[0-9]*|\.[0-9]+)$ ]] && awk -v x="$1" 'BEGIN { exit !(x > 0) }'; }

# Checks one (single, not list) value; prints why on failure.
scn_check_value() { # KEY VALUE
	local k=$1 v=$2
	case $k in
	name) [[ $v =~ ^[A-Za-z0-9._-]+$ ]] || { echo "name must be letters, digits, '.', '_' or '-'"; return 1; } ;;
	paper | description) ;;
	testbed) [[ $v == netns || $v == qemu ]] || { echo "testbed must be netns or qemu"; return 1; } ;;
	nic) [[ $v == e1000 || $v == virtio ]] || { echo "nic must be e1000 or virtio"; return 1; } ;;
	load) [[ $v =~ ^(none|cpu|memory|hd|io|network)$ ]] ||
		{ echo "load must be one of none, cpu, memory, hd, io, network"; return 1; } ;;
	background_vms | rest) scn_is_uint "$v" && ((10#$v <= 128)) ||
		{ echo "$k must be an integer from 0 to 128"; return 1; } ;;
	busy_vms) [[ $v == all ]] || { scn_is_uint "$v" && ((10#$v <= 128)); } ||
		{ echo "busy_vms must be 'all' or an integer from 0 to 128"; return 1; } ;;
	load_threads) scn_is_uint "$v" && ((10#$v >= 1 && 10#$v <= 64)) ||
		{ echo "load_threads must be an integer from 1 to 64"; return 1; } ;;
	probe_count) scn_is_uint "$v" && ((10#$v <= 10000000)) ||
		{ echo "probe_count must be an integer from 0 (no probes) to 10000000"; return 1; } ;;
	probe_size) scn_is_uint "$v" && ((10#$v <= 65000)) ||
		{ echo "probe_size must be an integer from 0 to 65000 (bytes)"; return 1; } ;;
	probe_interval) scn_is_pos_num "$v" || { echo "probe_interval must be a positive number of seconds"; return 1; } ;;
	probe_rate) scn_is_pos_num "$v" || { echo "probe_rate must be a positive number of probes per second"; return 1; } ;;
	transfer)
		[[ $v == none ]] && return 0
		if [[ $v =~ ^bulk[[:space:]]+([^[:space:]]+)$ ]]; then
			scn_size_bytes "${BASH_REMATCH[1]}" >/dev/null && return 0
		elif [[ $v =~ ^([0-9]+)[[:space:]]*x[[:space:]]*([^[:space:]]+)$ ]]; then
			((10#${BASH_REMATCH[1]} >= 1)) && scn_size_bytes "${BASH_REMATCH[2]}" >/dev/null && return 0
		fi
		echo "transfer must be none, 'bulk SIZE' or 'COUNT x SIZE' (e.g. 1000 x 100KB)"
		return 1
		;;
	transfer_dir) [[ $v == send || $v == recv ]] || { echo "transfer_dir must be send or recv"; return 1; } ;;
	message_size) local b
		b=$(scn_size_bytes "$v") && ((b >= 1 && b <= 16777216)) ||
		{ echo "message_size must be a size from 1 to 16M (e.g. 64KB)"; return 1; } ;;
	mtu) scn_is_uint "$v" && ((10#$v >= 68 && 10#$v <= 65535)) ||
		{ echo "mtu must be an integer from 68 to 65535"; return 1; } ;;
	pinning) [[ $v == yes || $v == no ]] || { echo "pinning must be yes or no"; return 1; } ;;
	guest_memory) scn_is_uint "$v" && ((10#$v >= 64 && 10#$v <= 65536)) ||
		{ echo "guest_memory must be an integer from 64 to 65536 (MB)"; return 1; } ;;
	boot_timeout) scn_is_uint "$v" && ((10#$v >= 1 && 10#$v <= 3600)) ||
		{ echo "boot_timeout must be an integer from 1 to 3600 (seconds)"; return 1; } ;;
	tcpmon) [[ $v == yes || $v == no ]] || { echo "tcpmon must be yes or no"; return 1; } ;;
	*) echo "unknown key '$k'"; return 1 ;;
	esac
}

# Checks VALUE for KEY, each element if a list. LINE for the message ('' for --set).
scn_check() { # LINE KEY VALUE
	local line=$1 k=$2 v=$3 item why
	if [[ -z ${SCN_DEFAULT[$k]+x} ]]; then
		scn_err "$line" "unknown key '$k' (known: ${SCN_KEYS[*]})"
		return 2
	fi
	if [[ $SCN_SWEEP == *" $k "* && $v == *,* ]]; then
		local -a items
		IFS=, read -ra items <<<"$v"
		for item in "${items[@]}"; do
			item=$(scn_trim "$item")
			if [ -z "$item" ]; then
				scn_err "$line" "$k: empty element in list '$v'"
				return 2
			fi
			why=$(scn_check_value "$k" "$item") || {
				scn_err "$line" "bad value '$item': $why"
				return 2
			}
		done
		return 0
	fi
	if [ -z "$v" ] && [[ $k != paper && $k != description && $k != probe_rate ]]; then
		scn_err "$line" "$k: missing value"
		return 2
	fi
	[ -z "$v" ] && return 0
	why=$(scn_check_value "$k" "$v") || {
		scn_err "$line" "bad value '$v': $why"
		return 2
	}
}

scn_load() { # FILE FULL [KEY=VALUE...]
	SCN_FILE=$1
	local full=$2
	shift 2
	SCN=() SCN_LINE=()
	if [ ! -e "$SCN_FILE" ]; then
		echo "$SCN_FILE: no such scenario file" >&2
		return 2
	fi
	if [ ! -f "$SCN_FILE" ] || [ ! -r "$SCN_FILE" ]; then
		echo "$SCN_FILE: cannot read the scenario file" >&2
		return 1
	fi
	local lineno=0 raw line k v
	declare -A fullv=() fullline=()
	while IFS= read -r raw || [ -n "$raw" ]; do
		lineno=$((lineno + 1))
		line=${raw%%#*}
		line=$(scn_trim "$line")
		[ -z "$line" ] && continue
		if [[ $line != *=* ]]; then
			scn_err "$lineno" "expected 'key = value', got '$line'"
			return 2
		fi
		k=$(scn_trim "${line%%=*}")
		v=$(scn_trim "${line#*=}")
		if [[ $k == full.* ]]; then
			k=${k#full.}
			scn_check "$lineno" "$k" "$v" || return 2
			fullv[$k]=$v fullline[$k]=$lineno
			continue
		fi
		scn_check "$lineno" "$k" "$v" || return 2
		if [[ -n ${SCN[$k]+x} ]]; then
			scn_err "$lineno" "key '$k' given twice (first on line ${SCN_LINE[$k]})"
			return 2
		fi
		SCN[$k]=$v SCN_LINE[$k]=$lineno
	done <"$SCN_FILE"
	if ((full)); then
		for k in "${!fullv[@]}"; do
			SCN[$k]=${fullv[$k]} SCN_LINE[$k]=${fullline[$k]}
		done
	fi
	local set
	for set in "$@"; do
		if [[ $set != *=* ]]; then
			echo "--set: expected KEY=VALUE, got '$set'" >&2
			return 2
		fi
		k=$(scn_trim "${set%%=*}")
		v=$(scn_trim "${set#*=}")
		SCN_FILE="--set $k" scn_check "" "$k" "$v" || return 2
		SCN[$k]=$v
	done
	if [[ -n ${SCN[probe_rate]:-} && -n ${SCN[probe_interval]:-} ]]; then
		scn_err "${SCN_LINE[probe_rate]:-}" "give probe_rate or probe_interval, not both"
		return 2
	fi
	for k in "${SCN_KEYS[@]}"; do
		[[ -n ${SCN[$k]+x} ]] || SCN[$k]=${SCN_DEFAULT[$k]}
	done
	if [[ ${SCN[probe_count]} == 0 && ${SCN[transfer]} == none ]]; then
		scn_err "${SCN_LINE[probe_count]:-}" "probe_count = 0 and no transfer: nothing to run"
		return 2
	fi
	# probe_rate wins over the default interval when given.
	[ -n "${SCN[probe_rate]}" ] && [ -z "${SCN_LINE[probe_interval]:-}" ] && SCN[probe_interval]=
	[ -n "${SCN[name]}" ] || SCN[name]=$(basename "$SCN_FILE" .scn)
	return 0
}

# Prints the sweep, one run per line: the swept keys as k=v joined by ';' (empty line: no sweep).
scn_runs() {
	local combos=("") k item c
	local -a items next
	for k in "${SCN_KEYS[@]}"; do
		[[ $SCN_SWEEP == *" $k "* && ${SCN[$k]} == *,* ]] || continue
		IFS=, read -ra items <<<"${SCN[$k]}"
		next=()
		for c in "${combos[@]}"; do
			for item in "${items[@]}"; do
				item=$(scn_trim "$item")
				next+=("${c:+$c;}$k=$item")
			done
		done
		combos=("${next[@]}")
	done
	printf '%s\n' "${combos[@]}"
}

scn_apply() { # LINE from scn_runs
	local kv
	RUN=()
	for kv in "${SCN_KEYS[@]}"; do
		RUN[$kv]=${SCN[$kv]}
	done
	local -a pairs
	IFS=';' read -ra pairs <<<"$1"
	for kv in "${pairs[@]}"; do
		[ -n "$kv" ] && RUN[${kv%%=*}]=${kv#*=}
	done
	# The probe interval in seconds, from the rate when the rate was given.
	if [ -n "${RUN[probe_rate]}" ]; then
		RUN[probe_interval]=$(awk -v r="${RUN[probe_rate]}" 'BEGIN { printf "%.6g", 1 / r }')
	fi
	[[ ${RUN[busy_vms]} == all ]] && RUN[busy_vms]=${RUN[background_vms]}
	if ((10#${RUN[busy_vms]} > 10#${RUN[background_vms]})); then
		RUN[busy_vms]=${RUN[background_vms]}
	fi
	return 0
}
