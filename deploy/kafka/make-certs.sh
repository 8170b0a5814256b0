#!/usr/bin/env bash
# A private CA and a TLS certificate for each broker (PEM, key and chain in one file, as
# KAFKA_SSL_KEYSTORE_TYPE=PEM reads them), into deploy/kafka/certs/. Clients trust ca.pem
# (KITH_KAFKA_SSL_CAFILE). Use your organisation's CA instead where there is one.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p certs && cd certs
umask 077
[ -f ca.key ] || openssl req -x509 -newkey rsa:3072 -nodes -days 825 -subj "/CN=Kith Kafka CA" \
  -keyout ca.key -out ca.pem
for broker in kafka-1 kafka-2 kafka-3; do
  [ -f "$broker.pem" ] && continue
  openssl req -newkey rsa:3072 -nodes -subj "/CN=$broker" -keyout "$broker.key" -out "$broker.csr"
  printf 'subjectAltName=DNS:%s,DNS:localhost\n' "$broker" > "$broker.ext"
  openssl x509 -req -in "$broker.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 825 \
    -extfile "$broker.ext" -out "$broker.crt"
  cat "$broker.key" "$broker.crt" ca.pem > "$broker.pem"
  rm -f "$broker.csr" "$broker.ext"
done
chmod 644 ca.pem ./*.pem
echo "certificates in $(pwd)"
