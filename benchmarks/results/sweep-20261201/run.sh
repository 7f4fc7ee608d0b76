#!/bin/bash
# The part-size x concurrency sweep on the modelled S3, as a user would run it.
# Run from the project's .venv (python3 dev.py test creates it): run.sh OUT_DIR
set -e
OUT=$(realpath "${1:?usage: run.sh OUT_DIR}")
mkdir -p "$OUT"
cd "$(dirname "$0")/../../.."
PORT=$(python -c "import socket;s=socket.socket();s.bind(('127.0.0.1',0));print(s.getsockname()[1])")
PYTHONPATH=. python -m s3xcopy bench model --port $PORT > "$OUT/model.log" 2>&1 &
MODEL=$!
trap "kill $MODEL" EXIT
for i in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/__model__/params" >/dev/null && break; sleep 0.2; done
curl -sf -X POST "http://127.0.0.1:$PORT/__model__/seed?bucket=sweep&prefix=big/50GiB.bin&count=1&size=53687091200" >/dev/null
export AWS_ACCESS_KEY_ID=model AWS_SECRET_ACCESS_KEY=model AWS_DEFAULT_REGION=us-east-1
PYTHONPATH=. python -m s3xcopy bench s3://sweep/big/50GiB.bin --dest-prefix s3://sweep/out/ \
  --endpoint-url http://127.0.0.1:$PORT --part-sizes 8MiB,64MiB,256MiB,1GiB --concurrency 32,64,128 \
  --repeat 1 --vs-model --csv "$OUT/sweep.csv" --plot "$OUT/sweep.png"
