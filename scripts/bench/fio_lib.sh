# SPDX-License-Identifier: Apache-2.0
#
# Helpers of the fio benchmarks (sourced):
#   bench_fio FILE RW BS DEPTH SIZE RUNTIME [CMD...]
#       fio (libaio, O_DIRECT, 1 s of ramp, --gtod_reduce: the emulated
#       guest's clock is slow to read) on FILE, run through CMD when given
#       (e.g. a namespace); prints IOPS for 4k, MiB/s otherwise
#   bench_median "V V V..."   the median of the values ("-" when none)
#   bench_ratio A B           A / B with two decimals ("-" when B is 0)

bench_fio() {
	local file=$1 rw=$2 bs=$3 depth=$4 size=$5 runtime=$6 out

	shift 6
	out=$("$@" fio --name=b --filename="$file" --ioengine=libaio \
		--direct=1 --rw="$rw" --bs="$bs" --iodepth="$depth" \
		--size="$size" --time_based --runtime="$runtime" \
		--ramp_time=1 --gtod_reduce=1 --output-format=json 2>/dev/null)
	if [ "$bs" = 4k ]; then
		jq -r '.jobs[0] | (.read.iops + .write.iops) | floor' <<<"$out"
	else
		jq -r '.jobs[0] | ((.read.bw + .write.bw) / 1024) | floor' <<<"$out"
	fi
}

bench_median() {
	tr ' ' '\n' <<<"$1" | { grep . || true; } | sort -n |
		awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }'
}

bench_ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'
}
