# Certificates and kubeconfigs for the test cluster. Sourced by up.sh.
# shellcheck shell=bash

issue_cert() { # name subject extended-key-usage [subject-alt-names]
  local name=$1 subject=$2 usage=$3 sans=${4:-}
  [ -f "$PKI/$name.crt" ] && return 0
  local ext
  ext=$(mktemp)
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$usage"
    [ -n "$sans" ] && echo "subjectAltName=$sans"
  } >"$ext"
  openssl req -new -nodes -newkey rsa:2048 -keyout "$PKI/$name.key" -out "$PKI/$name.csr" -subj "$subject" 2>/dev/null
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 3650 -sha256 -extfile "$ext" -out "$PKI/$name.crt" 2>/dev/null
  rm -f "$PKI/$name.csr" "$ext"
}

write_kubeconfig() { # user cert-name out-file
  cat >"$3" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: ktx-test
  cluster:
    server: https://$NODE_IP:$API_PORT
    certificate-authority-data: $(base64 -w0 "$PKI/ca.crt")
users:
- name: $1
  user:
    client-certificate-data: $(base64 -w0 "$PKI/$2.crt")
    client-key-data: $(base64 -w0 "$PKI/$2.key")
contexts:
- name: ktx-test
  context: {cluster: ktx-test, user: $1, namespace: default}
current-context: ktx-test
KUBECONFIG
  chmod 600 "$3"
}

make_pki() {
  mkdir -p "$PKI"
  chmod 700 "$PKI"
  if [ ! -f "$PKI/ca.crt" ]; then
    openssl req -x509 -new -nodes -newkey rsa:2048 -keyout "$PKI/ca.key" -out "$PKI/ca.crt" \
      -days 3650 -subj "/CN=ktx-test-ca" 2>/dev/null
  fi
  issue_cert apiserver "/CN=kube-apiserver" serverAuth \
    "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,IP:127.0.0.1,IP:$KUBERNETES_SVC_IP,IP:$NODE_IP"
  issue_cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
  issue_cert kubelet-serving "/CN=$NODE_NAME" serverAuth "DNS:$NODE_NAME,IP:$NODE_IP"
  issue_cert admin "/O=system:masters/CN=kubernetes-admin" clientAuth
  issue_cert kubelet "/O=system:nodes/CN=system:node:$NODE_NAME" clientAuth
  issue_cert controller-manager "/CN=system:kube-controller-manager" clientAuth
  issue_cert scheduler "/CN=system:kube-scheduler" clientAuth
  issue_cert kube-proxy "/CN=system:kube-proxy" clientAuth
  if [ ! -f "$PKI/sa.key" ]; then
    openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
    openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
  fi
  write_kubeconfig admin admin "$STATE/admin.kubeconfig"
  write_kubeconfig "system:node:$NODE_NAME" kubelet "$STATE/kubelet.kubeconfig"
  write_kubeconfig system:kube-controller-manager controller-manager "$STATE/controller-manager.kubeconfig"
  write_kubeconfig system:kube-scheduler scheduler "$STATE/scheduler.kubeconfig"
  write_kubeconfig system:kube-proxy kube-proxy "$STATE/kube-proxy.kubeconfig"
  # The laptop reaches the API server at the same address, so its kubeconfig is the admin one.
  write_kubeconfig admin admin "$STATE/laptop.kubeconfig"
}
