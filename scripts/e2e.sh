#!/usr/bin/env bash
# `make e2e` (not CI): a real Prometheus server from Debian scrapes `daserver-check exporter`,
# which probes the built-in lab; then Prometheus' query API must show daserver_probe_success.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
if ! command -v prometheus >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
    # Debian starts the packaged service; this test runs its own instance.
    systemctl stop prometheus >/dev/null 2>&1 || service prometheus stop >/dev/null 2>&1 || true
  else
    echo "e2e: prometheus is not installed (apt-get install prometheus)" >&2; exit 3
  fi
fi
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { # wait_for FILE-or-URL SECONDS
  for _ in $(seq 1 $(( $2 * 10 ))); do
    if [[ $1 == http* ]]; then curl -fsS "$1" >/dev/null 2>&1 && return 0; else [ -s "$1" ] && return 0; fi
    sleep 0.1
  done
  echo "e2e: gave up waiting for $1" >&2; return 1
}

$PY -m daserver_check lab --state-file "$work/lab.json" --duration 600 >/dev/null & pids+=($!)
wait_for "$work/lab.json" 30
read -r url resolver ca < <($PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["url"], d["dns"], d["ca_file"])' "$work/lab.json")
cat > "$work/lab.toml" <<TOML
schema = 1
[deployment]
name = "lab"
urls = ["$url"]
[dns]
resolvers = ["$resolver"]
allow_private = true
[cert]
ca_file = "$ca"
TOML
exporter_port=$(free_port)
$PY -m daserver_check exporter --listen "127.0.0.1:$exporter_port" --profile "$work/lab.toml" >/dev/null & pids+=($!)
wait_for "http://127.0.0.1:$exporter_port/metrics" 30
prom_port=$(free_port)
cat > "$work/prometheus.yml" <<YAML
global: {scrape_interval: 2s, scrape_timeout: 2s}
scrape_configs:
  - job_name: daserver-check
    metrics_path: /probe
    static_configs: [{targets: ["$url"]}]
    relabel_configs:
      - {source_labels: [__address__], target_label: __param_target}
      - {source_labels: [__param_target], target_label: instance}
      - {target_label: __address__, replacement: "127.0.0.1:$exporter_port"}
YAML
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
  --web.listen-address="127.0.0.1:$prom_port" >"$work/prometheus.log" 2>&1 & pids+=($!)
wait_for "http://127.0.0.1:$prom_port/-/ready" 60
for _ in $(seq 1 300); do
  answer=$(curl -fsS "http://127.0.0.1:$prom_port/api/v1/query?query=daserver_probe_success" || true)
  if echo "$answer" | grep -q '"__name__":"daserver_probe_success"'; then
    echo "Prometheus query API: $answer"
    echo "$answer" | grep -q '"1"\]' && { echo "e2e: OK — daserver_probe_success is 1 for $url"; break; }
    echo "e2e: daserver_probe_success is present but not 1" >&2; exit 1
  fi
  sleep 0.2
done
if ! echo "${answer:-}" | grep -q '"1"\]'; then
  echo "e2e: Prometheus never showed daserver_probe_success; its log:" >&2
  tail -20 "$work/prometheus.log" >&2
  exit 1
fi

# The textfile path: a probe writes --output under umask 022, and node_exporter's textfile
# collector, running as nobody as the Debian service does, must be able to read it.
if ! command -v prometheus-node-exporter >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus-node-exporter >/dev/null
  systemctl stop prometheus-node-exporter >/dev/null 2>&1 || service prometheus-node-exporter stop >/dev/null 2>&1 || true
fi
textdir="$work/textfile"
mkdir -p "$textdir"; chmod 0755 "$work" "$textdir"
(umask 022; $PY -m daserver_check probe "$url" --resolver "$resolver" --ca-file "$ca" --profile lab \
   --format prometheus --output "$textdir/daserver.prom") || true
mode=$(stat -c %a "$textdir/daserver.prom")
[ "$mode" = "644" ] || { echo "e2e: --output wrote mode $mode under umask 022, not 644" >&2; exit 1; }
ne_port=$(free_port)
setpriv --reuid=nobody --regid=nogroup --clear-groups prometheus-node-exporter \
  --web.listen-address="127.0.0.1:$ne_port" --collector.disable-defaults --collector.textfile \
  --collector.textfile.directory="$textdir" >"$work/node_exporter.log" 2>&1 & pids+=($!)
wait_for "http://127.0.0.1:$ne_port/metrics" 30
if curl -fsS "http://127.0.0.1:$ne_port/metrics" | grep -q '^daserver_probe_success'; then
  echo "e2e: OK — node_exporter (as nobody) reads the --output textfile (mode $mode)"
else
  echo "e2e: node_exporter running as nobody did not expose daserver_probe_success" >&2
  tail -20 "$work/node_exporter.log" >&2
  exit 1
fi
