#!/usr/bin/env bash
# Makes sure a PostgreSQL server is reachable and prints an admin connection
# URL as the last line of stdout. Progress goes to stderr. Idempotent; fast
# (well under a second) when a server already runs.
#
# Order: $DATABASE_URL if reachable; 127.0.0.1:$PG_PROBE_PORT (default 5432)
# as user postgres; a private cluster under .data/pg already running; a
# Debian cluster (started if needed, as root); apt-get install postgresql (as
# root) when no server binaries exist; otherwise a private cluster under
# $CLIENTREG_PGDATA (default .data/pg) on 127.0.0.1:$PG_PRIVATE_PORT (5499).
#
# Overrides (mainly for testing this script): PG_PROBE_PORT, PG_PRIVATE_PORT,
# CLIENTREG_PGDATA, PG_SKIP_DEBIAN=1 (ignore Debian clusters).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PROBE_PORT=${PG_PROBE_PORT:-5432}
PRIVATE_PORT=${PG_PRIVATE_PORT:-5499}
DATA_ROOT=$REPO/.data
PGDATA_DIR=${CLIENTREG_PGDATA:-$DATA_ROOT/pg}
SOCK_DIR=$(dirname "$PGDATA_DIR")/pgsock
LOG_FILE=$(dirname "$PGDATA_DIR")/pg.log

log() { printf 'postgres.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
is_root() { [ "$(id -u)" -eq 0 ]; }
have() { command -v "$1" >/dev/null 2>&1; }
url_for_port() { printf 'postgres://postgres@127.0.0.1:%s/postgres?sslmode=disable' "$1"; }

# can_connect URL: true when the server behind URL accepts a session (psql),
# accepts connections (pg_isready), or at least the TCP port is open.
can_connect() {
	local url=$1
	if have psql; then
		PGCONNECT_TIMEOUT=3 psql "$url" -XAtqc 'select 1' >/dev/null 2>&1
	elif have pg_isready; then
		pg_isready -q -t 3 -d "$url" >/dev/null 2>&1
	else
		tcp_open "$url"
	fi
}

# tcp_open URL: bash /dev/tcp probe of the URL's host and port.
tcp_open() {
	local url=$1 rest hostport host port
	rest=${url#*://}
	rest=${rest%%[/?]*}
	hostport=${rest##*@}
	host=${hostport%:*}
	port=5432
	[[ $hostport == *:* ]] && port=${hostport##*:}
	host=${host#[}; host=${host%]}
	[ -n "$host" ] || host=127.0.0.1
	timeout 3 bash -c ": </dev/tcp/$host/$port" >/dev/null 2>&1
}

wait_ready() {
	local url=$1 i
	for ((i = 0; i < 60; i++)); do
		can_connect "$url" && return 0
		sleep 0.5
	done
	return 1
}

found() { printf '%s\n' "$1"; exit 0; }

# (a) the caller's own server.
if [ -n "${DATABASE_URL:-}" ]; then
	if can_connect "$DATABASE_URL"; then
		found "$DATABASE_URL"
	fi
	log "DATABASE_URL is set but not reachable; looking for another server"
fi

# (b) a local server with trust auth for postgres.
url=$(url_for_port "$PROBE_PORT")
if can_connect "$url"; then
	found "$url"
fi

# (e, fast path) our private cluster from an earlier run.
private_url=$(url_for_port "$PRIVATE_PORT")
if [ -f "$PGDATA_DIR/PG_VERSION" ] && can_connect "$private_url"; then
	found "$private_url"
fi

# (c) a Debian cluster: start it (as root) and use it if postgres may log in.
try_debian_cluster() {
	[ "${PG_SKIP_DEBIAN:-}" = 1 ] && return 1
	have pg_lsclusters || return 1
	local line ver name port status url
	line=$(pg_lsclusters --no-header 2>/dev/null | awk 'NF >= 4 {print; exit}') || true
	[ -n "$line" ] || return 1
	read -r ver name port status _ <<<"$line"
	url=$(url_for_port "$port")
	if [ "$status" != online ]; then
		if ! is_root; then
			log "Debian cluster $ver/$name is $status; not root, cannot start it"
			return 1
		fi
		log "starting Debian cluster $ver/$name (port $port)"
		pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start >&2 ||
			{ log "pg_ctlcluster start failed"; return 1; }
	fi
	if wait_ready "$url"; then
		found "$url"
	fi
	log "Debian cluster $ver/$name runs on port $port but postgres cannot log in over TCP without a password; using a private cluster instead"
	return 1
}
try_debian_cluster || true

# (d) no server binaries at all.
server_bin() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1) || true
	[ -n "$d" ] && [ -x "$d/initdb" ] && printf '%s\n' "$d"
}
if ! server_bin >/dev/null; then
	if ! is_root; then
		log "no PostgreSQL server is installed. Install one with:"
		log "    sudo apt-get install -y postgresql"
		log "or set DATABASE_URL / TEST_DATABASE_URL to a reachable server."
		exit 1
	fi
	have apt-get || die "no PostgreSQL server installed and no apt-get; install PostgreSQL or set DATABASE_URL"
	log "installing PostgreSQL with apt-get"
	apt-get update >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2
	try_debian_cluster || true
	server_bin >/dev/null || die "apt-get install postgresql did not provide /usr/lib/postgresql/*/bin/initdb"
fi

# (e) a private cluster under $PGDATA_DIR, trust auth, 127.0.0.1:$PRIVATE_PORT.
BIN=$(server_bin)
if [ -f "$PGDATA_DIR/PG_VERSION" ] && [ -x "/usr/lib/postgresql/$(cat "$PGDATA_DIR/PG_VERSION")/bin/pg_ctl" ]; then
	BIN=/usr/lib/postgresql/$(cat "$PGDATA_DIR/PG_VERSION")/bin
fi

as_pg() {
	if is_root; then
		if have runuser; then
			runuser -u postgres -- "$@"
		else
			su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
		fi
	else
		"$@"
	fi
}

mkdir -p "$PGDATA_DIR" "$SOCK_DIR"
if is_root; then
	id postgres >/dev/null 2>&1 || die "running as root but there is no 'postgres' OS user to own the private cluster"
	chown postgres: "$PGDATA_DIR" "$SOCK_DIR"
	touch "$LOG_FILE" && chown postgres: "$LOG_FILE"
	chmod 700 "$PGDATA_DIR"
	as_pg test -w "$PGDATA_DIR" ||
		die "the postgres OS user cannot write $PGDATA_DIR (a parent directory is not traversable); set CLIENTREG_PGDATA to another path"
fi

if [ ! -f "$PGDATA_DIR/PG_VERSION" ]; then
	log "creating private cluster in $PGDATA_DIR with $BIN/initdb"
	as_pg "$BIN/initdb" -D "$PGDATA_DIR" -U postgres --auth=trust -E UTF8 >&2
	cat >>"$PGDATA_DIR/postgresql.conf" <<EOF

# clientreg private test cluster (scripts/postgres.sh)
listen_addresses = '127.0.0.1'
port = $PRIVATE_PORT
unix_socket_directories = '$SOCK_DIR'
max_connections = 200
synchronous_commit = off
EOF
fi

if ! as_pg "$BIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1; then
	log "starting private cluster on 127.0.0.1:$PRIVATE_PORT (log: $LOG_FILE)"
	as_pg "$BIN/pg_ctl" -D "$PGDATA_DIR" -l "$LOG_FILE" -w -t 60 \
		-o "-p $PRIVATE_PORT" start >&2 ||
		die "private cluster did not start; see $LOG_FILE"
fi
wait_ready "$private_url" || die "private cluster on port $PRIVATE_PORT is not accepting connections; see $LOG_FILE"
found "$private_url"
