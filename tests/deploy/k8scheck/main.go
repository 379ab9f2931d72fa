// k8scheck validates the manifests of deploy/k8s offline, where no cluster runs.
//
//	k8scheck [-binary PATH] [-dockerfile PATH] [-config-source PATH] DIR
//
// Every YAML document of DIR is decoded strictly against the Kubernetes API types
// (k8s.io/api through client-go's scheme) and the Prometheus Operator's
// (monitoring.coreos.com/v1): an unknown kind or field, a field of the wrong type or
// a duplicate key fails. kustomization.yaml is rendered as `kubectl apply -k` renders
// it (kustomize's krusty) and must hold exactly the files' objects. Then the set is
// checked as a whole (cross.go): selectors, probes and scrape ports, the ConfigMaps,
// Secrets, keys and mounted files each pod refers to, and, with -binary, every option
// of each replyrate command line against `replyrate run --help`.
// Prints one line a problem; exits 1 when there is one.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

func main() {
	var opt options
	flag.StringVar(&opt.binary, "binary", "", "the replyrate binary: check command lines against its --help, config check the job configuration")
	flag.StringVar(&opt.dockerfile, "dockerfile", "", "deploy/docker/Dockerfile: the pods must run as its USER and start its ENTRYPOINT")
	flag.StringVar(&opt.configSource, "config-source", "", "deploy/replyrate.conf: the ConfigMap's replyrate.conf must be this file")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: k8scheck [-binary PATH] [-dockerfile PATH] [-config-source PATH] DIR")
		os.Exit(2)
	}
	files, err := readDir(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "k8scheck:", err)
		os.Exit(2)
	}
	if opt.dockerfile != "" {
		if opt.dockerfileText, err = os.ReadFile(opt.dockerfile); err != nil {
			fmt.Fprintln(os.Stderr, "k8scheck:", err)
			os.Exit(2)
		}
	}
	if opt.configSource != "" {
		if opt.configText, err = os.ReadFile(opt.configSource); err != nil {
			fmt.Fprintln(os.Stderr, "k8scheck:", err)
			os.Exit(2)
		}
	}
	res := check(files, &opt)
	for _, p := range res.problems {
		fmt.Println("FAIL: " + p)
	}
	if len(res.problems) > 0 {
		os.Exit(1)
	}
	kinds := make([]string, 0, len(res.kinds))
	for k, n := range res.kinds {
		kinds = append(kinds, fmt.Sprintf("%d %s", n, k))
	}
	sort.Strings(kinds)
	fmt.Printf("k8scheck: %d files, %s: decoded strictly, rendered by kustomize, cross-checked\n",
		len(files), strings.Join(kinds, ", "))
}

// readDir returns the YAML files of dir by name.
func readDir(dir string) (map[string][]byte, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if e.IsDir() || (ext != ".yaml" && ext != ".yml") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		files[e.Name()] = b
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no YAML files", dir)
	}
	return files, nil
}
