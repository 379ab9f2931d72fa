package main

// Each check, shown to fail: the repository's manifests pass, and each case below
// breaks them in one place and expects the problem that names it. RR_BINARY (the
// replyrate binary) turns on the cases of the command-line and config checks.

import (
	"os"
	"strings"
	"testing"
)

const root = "../../../"

func load(t *testing.T) (map[string][]byte, *options) {
	t.Helper()
	files, err := readDir(root + "deploy/k8s")
	if err != nil {
		t.Fatal(err)
	}
	opt := &options{binary: os.Getenv("RR_BINARY"), configSource: root + "deploy/replyrate.conf"}
	if opt.dockerfileText, err = os.ReadFile(root + "deploy/docker/Dockerfile"); err != nil {
		t.Fatal(err)
	}
	if opt.configText, err = os.ReadFile(opt.configSource); err != nil {
		t.Fatal(err)
	}
	return files, opt
}

func TestManifestsPass(t *testing.T) {
	files, opt := load(t)
	for _, p := range check(files, opt).problems {
		t.Error(p)
	}
}

func TestEachBreakageFails(t *testing.T) {
	cases := []struct {
		name, file, old, new, want string
		binary                     bool
	}{
		{"unknown field", "stream.yaml", "  replicas: 2", "  replica: 2", `unknown field "spec.replica"`, false},
		{"wrong type", "stream.yaml", "  replicas: 2", "  replicas: two", "replicas", false},
		{"duplicate key", "secret.yaml", "type: Opaque\n", "type: Opaque\ntype: Opaque\n", `key "type" already set`, false},
		{"unknown kind", "podmonitor.yaml", "kind: PodMonitor", "kind: PodMontor", `no kind "PodMontor"`, false},
		{"unknown apiVersion", "nightly.yaml", "apiVersion: batch/v1", "apiVersion: batch/v2", "batch/v2", false},
		{"selector", "stream.yaml", "      app.kubernetes.io/component: stream\n  # A rollout", "      app.kubernetes.io/component: streaming\n  # A rollout", "does not select", false},
		{"probe port", "stream.yaml", "              path: /ready\n              port: metrics", "              path: /ready\n              port: metric", "readiness probe port metric is not a port", false},
		{"probe path", "stream.yaml", "path: /health", "path: /healthz", `liveness probe path "/healthz"`, false},
		{"metrics port", "stream.yaml", "containerPort: 9464", "containerPort: 9465", "--metrics-addr port 9464 is not among", false},
		{"loopback", "stream.yaml", "- 0.0.0.0:9464", "- 127.0.0.1:9464", "not loopback", false},
		{"scrape annotation", "stream.yaml", `prometheus.io/port: "9464"`, `prometheus.io/port: "9465"`, "prometheus.io/port", false},
		{"podmonitor port", "podmonitor.yaml", "- port: metrics", "- port: http", "port http is not a port", false},
		{"podmonitor selector", "podmonitor.yaml", "app.kubernetes.io/name: replyrate\n  podMetrics", "app.kubernetes.io/name: replyrat\n  podMetrics", "selects no pod", false},
		{"missing ConfigMap", "stream.yaml", "name: replyrate-config", "name: replyrate-conf", "ConfigMap replyrate-conf is not in the set", false},
		{"missing Secret", "nightly.yaml", "secretName: replyrate-kafka", "secretName: kafka", "Secret kafka is not in the set", false},
		{"missing key", "stream.yaml", "- /etc/replyrate/kafka/kafka.properties", "- /etc/replyrate/kafka/client.properties", "has no key client.properties", false},
		{"unmounted file", "nightly.yaml", "--config /etc/replyrate/config/", "--config /etc/replyrate/", "no volume is mounted there", false},
		{"envFrom", "stream.yaml", "name: replyrate-env", "name: replyrate-environment", "envFrom ConfigMap replyrate-environment", false},
		{"k8s variable", "stream.yaml", "$(REPLYRATE_TOPIC)", "$(REPLYRATE_TOPICS)", "$(REPLYRATE_TOPICS) is not in the container's environment", false},
		{"shell variable", "nightly.yaml", "$REPLYRATE_NIGHTLY_GROUP", "$REPLYRATE_NIGHT_GROUP", "$REPLYRATE_NIGHT_GROUP", false},
		{"instance name", "nightly.yaml", `--instance "$JOB_COMPLETION_INDEX"`, "--instance nightly", "names of their own", false},
		{"stream instance", "stream.yaml", "- $(POD_NAME)", "- stream", "names of their own", false},
		{"parallelism", "nightly.yaml", "parallelism: 3", "parallelism: 2", "parallelism must equal completions", false},
		{"restartPolicy", "nightly.yaml", "restartPolicy: Never", "restartPolicy: OnFailure", "podFailurePolicy needs restartPolicy Never", false},
		{"time zone", "nightly.yaml", "timeZone: Asia/Shanghai", "timeZone: Europe/Paris", "timeZone Europe/Paris", false},
		{"threads", "stream.yaml", `- "2"`, `- "4"`, "--threads 4", false},
		{"non-root", "nightly.yaml", "runAsNonRoot: true", "runAsNonRoot: false", "runAsNonRoot", false},
		{"image user", "stream.yaml", "runAsUser: 10001", "runAsUser: 1000", "the image's USER, 10001", false},
		{"read-only root", "stream.yaml", "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false", "readOnlyRootFilesystem", false},
		{"limits", "nightly.yaml", "                  memory: 4Gi\n", "", "no resources.limits.memory", false},
		{"image binary", "nightly.yaml", "exec /usr/local/bin/replyrate", "exec /usr/bin/replyrate", "the image's binary is /usr/local/bin/replyrate", false},
		{"config copy", "configmap.yaml", `horizon = "1h";`, `horizon = "2h";`, "differs from", false},
		{"kustomization", "kustomization.yaml", "  - podmonitor.yaml\n", "", "resources does not list podmonitor.yaml", false},
		{"kustomization field", "kustomization.yaml", "resources:", "resource:", "kustomize build", false},
		{"unknown option", "stream.yaml", "- --publish", "- --publsh", "no option --publsh", true},
		{"unknown option in script", "nightly.yaml", "--topic-prefix", "--prefix", "no option --prefix", true},
		{"config check", "configmap.yaml", `horizon = "1h";`, `horizon = "13h";`, "config check refuses", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			files, opt := load(t)
			if tc.binary && opt.binary == "" {
				t.Skip("RR_BINARY not set")
			}
			if !strings.Contains(string(files[tc.file]), tc.old) {
				t.Fatalf("%s has no %q: the case is stale", tc.file, tc.old)
			}
			files[tc.file] = []byte(strings.Replace(string(files[tc.file]), tc.old, tc.new, 1))
			res := check(files, opt)
			for _, p := range res.problems {
				if strings.Contains(p, tc.want) {
					t.Log(p)
					return
				}
			}
			t.Errorf("no problem says %q; problems: %q", tc.want, res.problems)
		})
	}
}
