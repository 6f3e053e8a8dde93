# SPDX-License-Identifier: Apache-2.0
#
# Configurations of the PostgreSQL tests (sourced, after server.sh and
# pg_start): pg_config FILE HOST [EXTRA...] writes a config on the shared
# store for HOST, with state (lock files, exports) of its own and the one
# file backend every host shares; EXTRA lines go to [DEFAULT].
pg_config() {
	local file=$1 host=$2

	shift 2
	{
		cat <<CONF
[DEFAULT]
state_dir = $T/$host
host = $host
persistence = postgresql
connection = $PG_CONNINFO
CONF
		printf '%s\n' "$@"
		cat <<CONF
enabled_backends = default

[default]
volume_driver = file
file_volume_dir = $T/volumes
file_volume_dir_create = true
CONF
	} >"$file"
	mkdir -p "$T/$host"
}
