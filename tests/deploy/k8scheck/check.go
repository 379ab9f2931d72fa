package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

type options struct {
	binary, dockerfile, configSource string
	dockerfileText, configText       []byte
}

type result struct {
	problems []string
	kinds    map[string]int
}

func (r *result) fail(format string, args ...any) {
	p := fmt.Sprintf(format, args...)
	for _, q := range r.problems {
		if q == p {
			return
		}
	}
	r.problems = append(r.problems, p)
}

// object is one decoded document and where it came from.
type object struct {
	where string // "stream.yaml: Deployment replyrate-stream"
	kind  string
	name  string
	obj   runtime.Object
}

const kustomizationFile = "kustomization.yaml"

// decoder decodes strictly against client-go's scheme plus monitoring.coreos.com/v1.
func decoder() runtime.Decoder {
	s := runtime.NewScheme()
	if err := scheme.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := monitoringv1.AddToScheme(s); err != nil {
		panic(err)
	}
	return serializer.NewCodecFactory(s, serializer.EnableStrict).UniversalDeserializer()
}

// meta: the object's name.
func meta(obj runtime.Object) (string, error) {
	acc, err := apimeta.Accessor(obj)
	if err != nil {
		return "", err
	}
	return acc.GetName(), nil
}

// documents splits a YAML stream into its non-empty documents.
func documents(data []byte) ([][]byte, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs [][]byte
	for {
		doc, err := r.Read()
		if err == io.EOF {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		empty := true
		for _, line := range strings.Split(string(doc), "\n") {
			t := strings.TrimSpace(line)
			if t != "" && t != "---" && !strings.HasPrefix(t, "#") {
				empty = false
				break
			}
		}
		if !empty {
			docs = append(docs, doc)
		}
	}
}

// decodeAll decodes every document of one file.
func decodeAll(dec runtime.Decoder, file string, data []byte, res *result) []object {
	docs, err := documents(data)
	if err != nil {
		res.fail("%s: not YAML: %v", file, err)
		return nil
	}
	var objs []object
	for i, doc := range docs {
		obj, gvk, err := dec.Decode(doc, nil, nil)
		if err != nil {
			res.fail("%s: document %d: %v", file, i+1, err)
			continue
		}
		acc, err := meta(obj)
		if err != nil {
			res.fail("%s: document %d: %v", file, i+1, err)
			continue
		}
		if acc == "" {
			res.fail("%s: document %d: %s without metadata.name", file, i+1, gvk.Kind)
		}
		objs = append(objs, object{where: fmt.Sprintf("%s: %s %s", file, gvk.Kind, acc),
			kind: gvk.Kind, name: acc, obj: obj})
	}
	return objs
}

func check(files map[string][]byte, opt *options) *result {
	res := &result{kinds: map[string]int{}}
	dec := decoder()
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	var objs []object
	for _, name := range names {
		if name == kustomizationFile {
			continue
		}
		objs = append(objs, decodeAll(dec, name, files[name], res)...)
	}
	for _, o := range objs {
		res.kinds[o.kind]++
	}
	if _, ok := files[kustomizationFile]; ok {
		checkKustomization(dec, files, names, objs, res)
	}
	crossCheck(objs, opt, res)
	return res
}

// checkKustomization renders the kustomization as `kubectl apply -k` would, and
// checks that it names every manifest file and renders exactly their objects.
func checkKustomization(dec runtime.Decoder, files map[string][]byte, names []string, objs []object, res *result) {
	fs := filesys.MakeFsInMemory()
	for name, data := range files {
		if err := fs.WriteFile("/k/"+name, data); err != nil {
			res.fail("kustomize: %v", err)
			return
		}
	}
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fs, "/k")
	if err != nil {
		res.fail("%s: kustomize build: %v", kustomizationFile, err)
		return
	}
	out, err := m.AsYaml()
	if err != nil {
		res.fail("%s: kustomize build: %v", kustomizationFile, err)
		return
	}
	rendered := decodeAll(dec, kustomizationFile+" (rendered)", out, res)
	want, got := map[string]bool{}, map[string]bool{}
	for _, o := range objs {
		want[o.kind+" "+o.name] = true
	}
	for _, o := range rendered {
		got[o.kind+" "+o.name] = true
	}
	for k := range want {
		if !got[k] {
			res.fail("%s: renders no %s (a manifest file not in resources?)", kustomizationFile, k)
		}
	}
	for k := range got {
		if !want[k] {
			res.fail("%s: renders %s, which no manifest file here holds", kustomizationFile, k)
		}
	}
	listed := string(files[kustomizationFile])
	for _, name := range names {
		if name != kustomizationFile && !strings.Contains(listed, "- "+name+"\n") {
			res.fail("%s: resources does not list %s", kustomizationFile, name)
		}
	}
}
