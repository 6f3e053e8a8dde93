#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# A throwaway PostgreSQL server for the tests, from Debian's packages:
# initdb in DIR/data, listening on a Unix socket in DIR/run and on
# 127.0.0.1 at a free port, with a database "cinderlib" owned by the role
# "cinderlib" (trust on the socket, scram passwords over TCP). The server
# never runs as root: as the "postgres" user when we are root.
#
# PG_LISTEN=ADDR (optional) adds an address to listen on, for clients of
# its subnets (another network namespace of the test VM); scram there too.
#
# Sourced: pg_start DIR (sets PG_CONNINFO, PG_TCP_CONNINFO, PG_SOCKET_DIR,
# PG_PORT, PG_DATA, PG_START_SECONDS), pg_stop DIR, pg_restart DIR,
# pg_halt DIR (down, data kept), pg_resume DIR, pg_sql DIR SQL.
# Run: server.sh start DIR (prints the socket conninfo), server.sh
# stop|restart|halt|resume DIR.

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
_PG_MARK=.cinderlib-test-postgresql

_pg_as_owner() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

_pg_free_port() {
	local p

	for p in $(shuf -i 20000-29999 -n 50); do
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

_pg_env() {
	local dir=$1

	PG_DATA=$dir/data
	PG_SOCKET_DIR=$dir/run
	PG_PORT=$(cat "$dir/port")
	PG_CONNINFO="host=$PG_SOCKET_DIR port=$PG_PORT dbname=cinderlib user=cinderlib"
	PG_TCP_CONNINFO="postgresql://cinderlib@127.0.0.1:$PG_PORT/cinderlib"
	export PG_DATA PG_SOCKET_DIR PG_PORT PG_CONNINFO PG_TCP_CONNINFO
}

pg_start() {
	local dir=${1-} t0=$SECONDS

	if [ -z "$dir" ] || [ ! -x "$PG_BIN/initdb" ]; then
		echo "pg_start: usage: pg_start DIR (needs the postgresql package: scripts/install-deps.sh)" >&2
		return 1
	fi
	mkdir -p "$dir/run" && touch "$dir/$_PG_MARK" || return 1
	_pg_free_port >"$dir/port" || { echo "pg_start: no free port" >&2; return 1; }
	[ "$(id -u)" != 0 ] || chown -R postgres: "$dir"
	# The directories above DIR must let the server through.
	chmod 0755 "$dir"
	if ! _pg_as_owner "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust \
		-E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1; then
		echo "pg_start: initdb failed:" >&2
		sed 's/^/  /' "$dir/initdb.log" >&2
		return 1
	fi
	cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1${PG_LISTEN:+,$PG_LISTEN}'
port = $(cat "$dir/port")
unix_socket_directories = '$dir/run'
max_connections = 100
shared_buffers = 32MB
# A client that dies mid-query (kill -9) ends its session, and its locks,
# at once instead of at the end of the query.
client_connection_check_interval = 200ms
CONF
	cat >"$dir/data/pg_hba.conf" <<HBA
local all all trust
host all all 127.0.0.1/32 scram-sha-256
${PG_LISTEN:+host all all samenet scram-sha-256}
HBA
	if ! _pg_as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
		-t 60 start >/dev/null; then
		echo "pg_start: the server did not start:" >&2
		tail -n 20 "$dir/server.log" | sed 's/^/  /' >&2
		return 1
	fi
	_pg_env "$dir"
	if ! _pg_psql "$dir" postgres -c "CREATE ROLE cinderlib LOGIN" \
		-c "CREATE DATABASE cinderlib OWNER cinderlib" >/dev/null; then
		echo "pg_start: cannot make the cinderlib role and database" >&2
		return 1
	fi
	PG_START_SECONDS=$((SECONDS - t0))
	export PG_START_SECONDS
}

# _pg_psql DIR USER ARGS...: psql on the socket, as the server's superuser
# or another role.
_pg_psql() {
	local dir=$1 user=$2

	shift 2
	psql -X -q -v ON_ERROR_STOP=1 -h "$dir/run" -p "$(cat "$dir/port")" \
		-U "$user" -d "$([ "$user" = postgres ] && echo postgres || echo cinderlib)" "$@"
}

# pg_sql DIR SQL: one statement as the superuser in database cinderlib;
# prints rows unaligned.
pg_sql() {
	psql -X -q -A -t -v ON_ERROR_STOP=1 -h "$1/run" -p "$(cat "$1/port")" \
		-U postgres -d cinderlib -c "$2"
}

pg_restart() {
	_pg_as_owner "$PG_BIN/pg_ctl" -D "$1/data" -l "$1/server.log" -w -t 60 \
		-m fast restart >/dev/null
}

# pg_halt DIR / pg_resume DIR: the server down (its data kept), and up.
pg_halt() {
	_pg_as_owner "$PG_BIN/pg_ctl" -D "$1/data" -w -t 60 -m fast stop >/dev/null
}

pg_resume() {
	_pg_as_owner "$PG_BIN/pg_ctl" -D "$1/data" -l "$1/server.log" -w -t 60 \
		start >/dev/null
}

pg_stop() {
	local dir=${1-}

	[ -n "$dir" ] && [ -d "$dir" ] || return 0
	if [ ! -e "$dir/$_PG_MARK" ]; then
		echo "pg_stop: $dir was not made by pg_start, not removing it" >&2
		return 1
	fi
	if [ -f "$dir/data/postmaster.pid" ]; then
		_pg_as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -w -t 30 -m immediate \
			stop >/dev/null 2>&1
	fi
	rm -rf "$dir"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	case "${1-}" in
	start) pg_start "$2" && echo "$PG_CONNINFO" ;;
	stop) pg_stop "$2" ;;
	restart) pg_restart "$2" ;;
	halt) pg_halt "$2" ;;
	resume) pg_resume "$2" ;;
	*) echo "usage: $0 start|stop|restart|halt|resume DIR" >&2; exit 2 ;;
	esac
fi
