# ports.sh: loopback port helpers of the bench scripts (sourced; needs PORT).

# port_free PORT: true when nothing listens on PORT.
port_free() { ! (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; }

# free_port VAR: sets VAR to the next free port from $next_port on.
next_port=$PORT
free_port() {
	while ! port_free $next_port; do next_port=$((next_port + 1)); done
	printf -v "$1" %d $next_port
	next_port=$((next_port + 1))
	((next_port < PORT + 2000)) || next_port=$PORT
}

# wait_port PORT PID LOG: waits until PORT listens while PID lives; on
# failure prints the end of LOG and exits.
wait_port() {
	for _ in $(seq 600); do
		port_free "$1" || return 0
		kill -0 "$2" 2>/dev/null || { echo "run.sh: server died:" >&2; tail -20 "$3" >&2; exit 1; }
		sleep 0.05
	done
	echo "run.sh: nothing listens on port $1" >&2
	tail -20 "$3" >&2
	exit 1
}
