package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path"
	"regexp"
	"strconv"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// The endpoints --metrics-addr serves besides the metrics.
const (
	livenessPath  = "/health"
	readinessPath = "/ready"
	metricsPath   = "/metrics"
)

// pod is one pod template of a workload.
type pod struct {
	where       string
	labels      map[string]string
	annotations map[string]string
	spec        *corev1.PodSpec
	replicas    int32 // how many run at once
	indexed     bool  // an Indexed Job's pods: JOB_COMPLETION_INDEX is set
	timeZone    string
}

type set struct {
	configMaps   map[string]*corev1.ConfigMap
	secrets      map[string]*corev1.Secret
	pods         []*pod
	monitors     []object
	statefulSets []object
	services     map[string]*corev1.Service
}

func crossCheck(objs []object, opt *options, res *result) {
	s := &set{configMaps: map[string]*corev1.ConfigMap{}, secrets: map[string]*corev1.Secret{},
		services: map[string]*corev1.Service{}}
	for _, o := range objs {
		switch v := o.obj.(type) {
		case *corev1.ConfigMap:
			s.configMaps[v.Name] = v
		case *corev1.Secret:
			s.secrets[v.Name] = v
		case *appsv1.Deployment:
			s.pods = append(s.pods, deploymentPod(o.where, v, res))
		case *appsv1.StatefulSet:
			s.pods = append(s.pods, statefulSetPod(o.where, v, res))
			s.statefulSets = append(s.statefulSets, o)
		case *corev1.Service:
			s.services[v.Name] = v
		case *batchv1.CronJob:
			p := jobPod(o.where, &v.Spec.JobTemplate.Spec, res)
			if v.Spec.TimeZone != nil {
				p.timeZone = *v.Spec.TimeZone
			}
			s.pods = append(s.pods, p)
		case *batchv1.Job:
			s.pods = append(s.pods, jobPod(o.where, &v.Spec, res))
		case *monitoringv1.PodMonitor:
			s.monitors = append(s.monitors, o)
		default:
			res.fail("%s: this check knows no rules for a %s: teach it (cross.go) or leave the kind out", o.where, o.kind)
		}
	}
	if opt.configText != nil {
		cm, ok := s.configMaps["replyrate-config"]
		if !ok {
			res.fail("no ConfigMap replyrate-config holds the job configuration")
		} else if cm.Data["replyrate.conf"] != string(opt.configText) {
			res.fail("ConfigMap replyrate-config: replyrate.conf differs from %s: copy it over", opt.configSource)
		}
	}
	help := helpOptions(opt, res)
	image := ""
	for _, p := range s.pods {
		s.checkPod(p, opt, help, res)
		for _, c := range p.spec.Containers {
			if image == "" {
				image = c.Image
			} else if c.Image != image {
				res.fail("%s: container %s runs image %s, other workloads %s", p.where, c.Name, c.Image, image)
			}
		}
	}
	for _, m := range s.monitors {
		s.checkPodMonitor(m, res)
	}
	for _, o := range s.statefulSets {
		s.checkGoverningService(o, res)
	}
}

// A StatefulSet names a headless Service (its governing service) that exists and
// selects its pods.
func (s *set) checkGoverningService(o object, res *result) {
	st := o.obj.(*appsv1.StatefulSet)
	svc, ok := s.services[st.Spec.ServiceName]
	if !ok {
		res.fail("%s: serviceName %q is no Service of the manifests", o.where, st.Spec.ServiceName)
		return
	}
	if svc.Spec.ClusterIP != corev1.ClusterIPNone {
		res.fail("%s: its governing Service %s is not headless (clusterIP: None)", o.where, svc.Name)
	}
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	if len(svc.Spec.Selector) == 0 || !sel.Matches(labels.Set(st.Spec.Template.Labels)) {
		res.fail("%s: Service %s's selector %v does not select its pods %v", o.where, svc.Name,
			svc.Spec.Selector, st.Spec.Template.Labels)
	}
}

func deploymentPod(where string, d *appsv1.Deployment, res *result) *pod {
	return controllerPod(where, "Deployment", d.Spec.Selector, &d.Spec.Template, d.Spec.Replicas, res)
}

func statefulSetPod(where string, d *appsv1.StatefulSet, res *result) *pod {
	if d.Spec.ServiceName == "" {
		res.fail("%s: no spec.serviceName (the governing headless Service)", where)
	}
	return controllerPod(where, "StatefulSet", d.Spec.Selector, &d.Spec.Template, d.Spec.Replicas, res)
}

// The pod of a controller that keeps replicas running: its selector selects
// the template's labels, and its pods restart Always.
func controllerPod(where, kind string, selector *metav1.LabelSelector, t *corev1.PodTemplateSpec,
	replicas *int32, res *result) *pod {
	n := int32(1)
	if replicas != nil {
		n = *replicas
	}
	if selector == nil {
		res.fail("%s: no spec.selector", where)
	} else if sel, err := metav1.LabelSelectorAsSelector(selector); err != nil {
		res.fail("%s: spec.selector: %v", where, err)
	} else if sel.Empty() || !sel.Matches(labels.Set(t.Labels)) {
		res.fail("%s: spec.selector %s does not select the pod template's labels %v", where, sel, t.Labels)
	}
	if t.Spec.RestartPolicy != "" && t.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		res.fail("%s: a %s's pods restart Always, not %s", where, kind, t.Spec.RestartPolicy)
	}
	return &pod{where: where, labels: t.Labels, annotations: t.Annotations, spec: &t.Spec, replicas: n}
}

func jobPod(where string, j *batchv1.JobSpec, res *result) *pod {
	p := &pod{where: where, labels: j.Template.Labels, annotations: j.Template.Annotations,
		spec: &j.Template.Spec, replicas: 1}
	if j.Parallelism != nil {
		p.replicas = *j.Parallelism
	}
	rp := j.Template.Spec.RestartPolicy
	if rp != corev1.RestartPolicyNever && rp != corev1.RestartPolicyOnFailure {
		res.fail("%s: a Job's pods need restartPolicy Never or OnFailure, not %q", where, rp)
	}
	if j.CompletionMode != nil && *j.CompletionMode == batchv1.IndexedCompletion {
		p.indexed = true
		if j.Completions == nil {
			res.fail("%s: an Indexed Job needs completions", where)
		} else if j.Parallelism == nil || *j.Parallelism != *j.Completions {
			// the instances share one group's partitions: all of them at once
			res.fail("%s: parallelism must equal completions (%d): the N instances of one range run share its partitions and run together", where, *j.Completions)
		}
	}
	if j.PodFailurePolicy != nil {
		if rp != corev1.RestartPolicyNever {
			res.fail("%s: podFailurePolicy needs restartPolicy Never", where)
		}
		for _, r := range j.PodFailurePolicy.Rules {
			if r.OnExitCodes != nil && r.OnExitCodes.ContainerName != nil && container(&j.Template.Spec, *r.OnExitCodes.ContainerName) == nil {
				res.fail("%s: podFailurePolicy names container %s, which the pod has not", where, *r.OnExitCodes.ContainerName)
			}
		}
	}
	return p
}

func container(spec *corev1.PodSpec, name string) *corev1.Container {
	for i := range spec.Containers {
		if spec.Containers[i].Name == name {
			return &spec.Containers[i]
		}
	}
	return nil
}

// env holds what a container's environment defines: name -> where it comes from.
type env map[string]string

func (s *set) environment(p *pod, c *corev1.Container, res *result) env {
	e := env{}
	for _, f := range c.EnvFrom {
		switch {
		case f.ConfigMapRef != nil:
			cm, ok := s.configMaps[f.ConfigMapRef.Name]
			if !ok {
				if f.ConfigMapRef.Optional == nil || !*f.ConfigMapRef.Optional {
					res.fail("%s: container %s: envFrom ConfigMap %s is not in the set", p.where, c.Name, f.ConfigMapRef.Name)
				}
				continue
			}
			for k, v := range cm.Data {
				e[f.Prefix+k] = "value:" + v
			}
		case f.SecretRef != nil:
			sec, ok := s.secrets[f.SecretRef.Name]
			if !ok {
				if f.SecretRef.Optional == nil || !*f.SecretRef.Optional {
					res.fail("%s: container %s: envFrom Secret %s is not in the set", p.where, c.Name, f.SecretRef.Name)
				}
				continue
			}
			for k := range secretKeys(sec) {
				e[f.Prefix+k] = "secret"
			}
		}
	}
	for _, v := range c.Env {
		e[v.Name] = "value:" + v.Value
		if v.ValueFrom == nil {
			continue
		}
		switch f := v.ValueFrom; {
		case f.FieldRef != nil:
			e[v.Name] = "field:" + f.FieldRef.FieldPath
		case f.ConfigMapKeyRef != nil:
			cm, ok := s.configMaps[f.ConfigMapKeyRef.Name]
			optional := f.ConfigMapKeyRef.Optional != nil && *f.ConfigMapKeyRef.Optional
			if !ok && !optional {
				res.fail("%s: container %s: env %s: ConfigMap %s is not in the set", p.where, c.Name, v.Name, f.ConfigMapKeyRef.Name)
			} else if ok {
				if _, has := cm.Data[f.ConfigMapKeyRef.Key]; !has && !optional {
					res.fail("%s: container %s: env %s: ConfigMap %s has no key %s", p.where, c.Name, v.Name, cm.Name, f.ConfigMapKeyRef.Key)
				}
				e[v.Name] = "value:" + cm.Data[f.ConfigMapKeyRef.Key]
			}
		case f.SecretKeyRef != nil:
			sec, ok := s.secrets[f.SecretKeyRef.Name]
			optional := f.SecretKeyRef.Optional != nil && *f.SecretKeyRef.Optional
			if !ok && !optional {
				res.fail("%s: container %s: env %s: Secret %s is not in the set", p.where, c.Name, v.Name, f.SecretKeyRef.Name)
			} else if ok && !secretKeys(sec)[f.SecretKeyRef.Key] && !optional {
				res.fail("%s: container %s: env %s: Secret %s has no key %s", p.where, c.Name, v.Name, sec.Name, f.SecretKeyRef.Key)
			}
			e[v.Name] = "secret"
		}
	}
	if p.indexed {
		e["JOB_COMPLETION_INDEX"] = "index"
	}
	return e
}

func secretKeys(sec *corev1.Secret) map[string]bool {
	keys := map[string]bool{}
	for k := range sec.Data {
		keys[k] = true
	}
	for k := range sec.StringData {
		keys[k] = true
	}
	return keys
}

// volumeFiles: the files a volume holds (key or item path -> content); nil when
// it is not a ConfigMap or Secret, or names one not in the set (a problem then).
func (s *set) volumeFiles(p *pod, v *corev1.Volume, res *result) map[string]string {
	files := map[string]string{}
	var items []corev1.KeyToPath
	var data map[string]string
	var what string
	optional := false
	switch {
	case v.ConfigMap != nil:
		what = "ConfigMap " + v.ConfigMap.Name
		optional = v.ConfigMap.Optional != nil && *v.ConfigMap.Optional
		cm, ok := s.configMaps[v.ConfigMap.Name]
		if !ok {
			if !optional {
				res.fail("%s: volume %s: %s is not in the set", p.where, v.Name, what)
			}
			return nil
		}
		data, items = cm.Data, v.ConfigMap.Items
	case v.Secret != nil:
		what = "Secret " + v.Secret.SecretName
		optional = v.Secret.Optional != nil && *v.Secret.Optional
		sec, ok := s.secrets[v.Secret.SecretName]
		if !ok {
			if !optional {
				res.fail("%s: volume %s: %s is not in the set", p.where, v.Name, what)
			}
			return nil
		}
		data = map[string]string{}
		for k, b := range sec.Data {
			data[k] = string(b)
		}
		for k, s := range sec.StringData {
			data[k] = s
		}
		items = v.Secret.Items
	default:
		return nil
	}
	if len(items) == 0 {
		for k, d := range data {
			files[k] = d
		}
		return files
	}
	for _, it := range items {
		d, ok := data[it.Key]
		if !ok && !optional {
			res.fail("%s: volume %s: %s has no key %s", p.where, v.Name, what, it.Key)
		}
		files[it.Path] = d
	}
	return files
}

// file finds what a path in the container holds: the content of the ConfigMap or
// Secret key mounted there; ok false (with a problem) when nothing puts it there.
func (s *set) file(p *pod, c *corev1.Container, name, flag string, res *result) (string, bool) {
	var best *corev1.VolumeMount
	for i := range c.VolumeMounts {
		m := &c.VolumeMounts[i]
		if name == m.MountPath || strings.HasPrefix(name, strings.TrimSuffix(m.MountPath, "/")+"/") {
			if best == nil || len(m.MountPath) > len(best.MountPath) {
				best = m
			}
		}
	}
	if best == nil {
		res.fail("%s: container %s: %s %s: no volume is mounted there (the image has no such file)", p.where, c.Name, flag, name)
		return "", false
	}
	var vol *corev1.Volume
	for i := range p.spec.Volumes {
		if p.spec.Volumes[i].Name == best.Name {
			vol = &p.spec.Volumes[i]
		}
	}
	if vol == nil {
		return "", false // reported with the mounts
	}
	files := s.volumeFiles(p, vol, res)
	if files == nil && (vol.ConfigMap != nil || vol.Secret != nil) {
		return "", false // not in the set: reported
	}
	if files == nil {
		res.fail("%s: container %s: %s %s: volume %s is no ConfigMap or Secret, nothing puts the file there", p.where, c.Name, flag, name, vol.Name)
		return "", false
	}
	key := strings.TrimPrefix(strings.TrimPrefix(name, best.MountPath), "/")
	if best.SubPath != "" {
		if name != best.MountPath {
			res.fail("%s: container %s: %s %s: %s mounts one file (subPath %s)", p.where, c.Name, flag, name, best.MountPath, best.SubPath)
			return "", false
		}
		key = best.SubPath
	}
	content, ok := files[key]
	if !ok {
		res.fail("%s: container %s: %s %s: volume %s has no key %s", p.where, c.Name, flag, name, vol.Name, key)
	}
	return content, ok
}

// command is how a container starts replyrate.
type command struct {
	argv   []string // replyrate's own argument list, argv[0] the program
	shell  string   // the script, when it runs under sh -c
	binary string   // the path it starts, "" for the image's ENTRYPOINT
}

var (
	k8sVar     = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)
	shellVar   = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)`)
	shellAssig = regexp.MustCompile(`(?m)(?:^|[\s;&|(])([A-Za-z_][A-Za-z0-9_]*)=`)
	assignment = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)
	// an option's line in a --help text, and the long and short options on it
	helpLine = regexp.MustCompile(`(?m)^\s+-.*$`)
	longOpt  = regexp.MustCompile(`--[a-z][a-z0-9-]*`)
	shortOpt = regexp.MustCompile(`^\s+(-[A-Za-z])[, ]`)
)

func replyrateCommand(p *pod, c *corev1.Container, res *result) *command {
	full := append(append([]string{}, c.Command...), c.Args...)
	if len(c.Command) == 0 {
		return &command{argv: append([]string{"replyrate"}, c.Args...)}
	}
	if len(full) == 3 && (full[0] == "/bin/sh" || full[0] == "sh" || full[0] == "/bin/bash") && full[1] == "-c" {
		script := full[2]
		for _, cmd := range shellCommands(script) {
			for len(cmd) > 0 && (cmd[0] == "exec" || assignment.MatchString(cmd[0])) {
				cmd = cmd[1:]
			}
			if len(cmd) > 0 && path.Base(cmd[0]) == "replyrate" {
				return &command{argv: cmd, shell: script, binary: cmd[0]}
			}
		}
		res.fail("%s: container %s: its script starts no replyrate", p.where, c.Name)
		return nil
	}
	if path.Base(full[0]) == "replyrate" {
		return &command{argv: full, binary: full[0]}
	}
	res.fail("%s: container %s: starts %s: this check knows the image's ENTRYPOINT, sh -c SCRIPT or replyrate", p.where, c.Name, full[0])
	return nil
}

// shellCommands splits a script into simple commands of words, quotes removed:
// enough to find the command line of a script like nightly.yaml's.
func shellCommands(script string) [][]string {
	script = strings.ReplaceAll(script, "\\\n", " ")
	var cmds [][]string
	var cur []string
	var word strings.Builder
	inWord, quote, depth := false, byte(0), 0
	flushWord := func() {
		if inWord {
			cur = append(cur, word.String())
			word.Reset()
			inWord = false
		}
	}
	flushCmd := func() {
		flushWord()
		if len(cur) > 0 {
			cmds = append(cmds, cur)
		}
		cur = nil
	}
	for i := 0; i < len(script); i++ {
		ch := script[i]
		switch {
		case quote != 0:
			if ch == quote {
				quote = 0
			} else {
				word.WriteByte(ch)
			}
		case ch == '\'' || ch == '"':
			quote, inWord = ch, true
		case ch == '$' && i+1 < len(script) && script[i+1] == '(':
			depth++
			word.WriteString("$(")
			inWord = true
			i++
		case ch == ')' && depth > 0:
			depth--
			word.WriteByte(ch)
		case depth > 0:
			word.WriteByte(ch)
		case ch == '\n' || ch == ';' || ch == '&' || ch == '|':
			flushCmd()
		case ch == ' ' || ch == '\t':
			flushWord()
		default:
			word.WriteByte(ch)
			inWord = true
		}
	}
	flushCmd()
	return cmds
}

// helpOptions: the options `replyrate run --help` and `replyrate --help` list,
// read off the lines that define them.
func helpOptions(opt *options, res *result) map[string]bool {
	if opt.binary == "" {
		return nil
	}
	opts := map[string]bool{}
	for _, args := range [][]string{{"run", "--help"}, {"--help"}} {
		out, err := exec.Command(opt.binary, args...).CombinedOutput()
		if err != nil {
			res.fail("%s %s: %v", opt.binary, strings.Join(args, " "), err)
			return nil
		}
		for _, line := range helpLine.FindAllString(string(out), -1) {
			for _, m := range longOpt.FindAllString(line, -1) {
				opts[m] = true
			}
			if m := shortOpt.FindStringSubmatch(line); m != nil {
				opts[m[1]] = true
			}
		}
	}
	return opts
}

// dockerfileImage: the numeric USER and the ENTRYPOINT of the Dockerfile's last stage.
func dockerfileImage(text []byte) (uid int64, entry string) {
	uid = -1
	for _, line := range strings.Split(string(text), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch strings.ToUpper(f[0]) {
		case "FROM":
			uid, entry = -1, ""
		case "USER":
			if n, err := strconv.ParseInt(strings.Split(f[1], ":")[0], 10, 64); err == nil {
				uid = n
			}
		case "ENTRYPOINT":
			var e []string
			if json.Unmarshal([]byte(strings.TrimSpace(line[len(f[0]):])), &e) == nil && len(e) > 0 {
				entry = e[0]
			}
		}
	}
	return uid, entry
}

func (s *set) checkPod(p *pod, opt *options, help map[string]bool, res *result) {
	spec := p.spec
	// -- security: non-root as the image's user
	sc := spec.SecurityContext
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		res.fail("%s: the pod needs securityContext.runAsNonRoot: true", p.where)
	}
	if opt.dockerfileText != nil {
		uid, entry := dockerfileImage(opt.dockerfileText)
		if sc == nil || sc.RunAsUser == nil || *sc.RunAsUser != uid {
			res.fail("%s: securityContext.runAsUser must be the image's USER, %d", p.where, uid)
		}
		for _, c := range spec.Containers {
			if cmd := replyrateCommand(p, &c, &result{}); cmd != nil && cmd.binary != "" && cmd.binary != entry {
				res.fail("%s: container %s starts %s; the image's binary is %s", p.where, c.Name, cmd.binary, entry)
			}
		}
	}
	volumes := map[string]bool{}
	for i := range spec.Volumes {
		volumes[spec.Volumes[i].Name] = true
		s.volumeFiles(p, &spec.Volumes[i], res)
	}
	for ci := range spec.Containers {
		c := &spec.Containers[ci]
		if c.SecurityContext == nil || c.SecurityContext.ReadOnlyRootFilesystem == nil || !*c.SecurityContext.ReadOnlyRootFilesystem {
			res.fail("%s: container %s: securityContext.readOnlyRootFilesystem: true", p.where, c.Name)
		}
		if c.SecurityContext == nil || c.SecurityContext.AllowPrivilegeEscalation == nil || *c.SecurityContext.AllowPrivilegeEscalation {
			res.fail("%s: container %s: securityContext.allowPrivilegeEscalation: false", p.where, c.Name)
		}
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			if _, ok := c.Resources.Requests[r]; !ok {
				res.fail("%s: container %s: no resources.requests.%s", p.where, c.Name, r)
			}
			if _, ok := c.Resources.Limits[r]; !ok {
				res.fail("%s: container %s: no resources.limits.%s", p.where, c.Name, r)
			}
		}
		for _, m := range c.VolumeMounts {
			if !volumes[m.Name] {
				res.fail("%s: container %s: volumeMount %s names no volume of the pod", p.where, c.Name, m.Name)
			}
		}
		e := s.environment(p, c, res)
		cmd := replyrateCommand(p, c, res)
		if cmd == nil {
			continue
		}
		s.checkCommand(p, c, cmd, e, help, opt, res)
	}
}

// flagValue returns the value of the first of names on the command line.
func flagValue(argv []string, names ...string) (string, bool) {
	for i, a := range argv {
		for _, n := range names {
			if a == n && i+1 < len(argv) {
				return argv[i+1], true
			}
			if strings.HasPrefix(a, n+"=") && strings.HasPrefix(n, "--") {
				return a[len(n)+1:], true
			}
		}
	}
	return "", false
}

func (s *set) checkCommand(p *pod, c *corev1.Container, cmd *command, e env, help map[string]bool, opt *options, res *result) {
	where := fmt.Sprintf("%s: container %s", p.where, c.Name)
	argv := cmd.argv
	if len(argv) < 2 || argv[1] != "run" {
		res.fail("%s: runs `%s`, not replyrate run", where, strings.Join(argv, " "))
		return
	}
	// -- every variable the command line uses is defined
	if cmd.shell == "" {
		for _, a := range append(append([]string{}, c.Command...), c.Args...) {
			for _, m := range k8sVar.FindAllStringSubmatch(a, -1) {
				if _, ok := e[m[1]]; !ok {
					res.fail("%s: $(%s) is not in the container's environment: Kubernetes leaves it as it is", where, m[1])
				}
			}
		}
	} else {
		assigned := map[string]bool{}
		for _, m := range shellAssig.FindAllStringSubmatch(cmd.shell, -1) {
			assigned[m[1]] = true
		}
		for _, m := range shellVar.FindAllStringSubmatch(cmd.shell, -1) {
			if _, ok := e[m[1]]; !ok && !assigned[m[1]] {
				res.fail("%s: the script uses $%s, which the container's environment does not set", where, m[1])
			}
		}
	}
	// -- every option is one replyrate run knows
	if help != nil {
		for _, a := range argv[2:] {
			if !strings.HasPrefix(a, "-") || a == "-" {
				continue
			}
			name := strings.SplitN(a, "=", 2)[0]
			if len(name) > 2 && !strings.HasPrefix(name, "--") {
				continue // a value, or short options run together: not used here
			}
			if !help[name] {
				res.fail("%s: replyrate run has no option %s (replyrate run --help)", where, name)
			}
		}
	}
	// -- the files it reads are mounted
	if f, ok := flagValue(argv, "--config", "-c"); ok {
		if content, ok := s.file(p, c, f, "--config", res); ok && opt.binary != "" {
			checkConfig(where, content, opt.binary, res)
		}
	} else {
		res.fail("%s: no --config: the job configuration should come from the ConfigMap", where)
	}
	for i, a := range argv {
		if (a == "-F" || a == "--kafka-config") && i+1 < len(argv) {
			if content, ok := s.file(p, c, argv[i+1], a, res); ok {
				for n, line := range strings.Split(content, "\n") {
					t := strings.TrimSpace(line)
					if t != "" && !strings.HasPrefix(t, "#") && !strings.Contains(t, "=") {
						res.fail("%s: %s %s: line %d is no key=value", where, a, argv[i+1], n+1)
					}
				}
			}
		}
	}
	// -- each instance of a group has a name of its own
	inst, hasInst := flagValue(argv, "--instance")
	if _, grouped := flagValue(argv, "--group", "-g"); grouped && (p.replicas > 1 || p.indexed) {
		if !hasInst || !perPod(inst, e, cmd.shell != "") {
			res.fail("%s: --instance %q: the %d instances of one group need names of their own (the pod's name, or an Indexed Job's JOB_COMPLETION_INDEX)", where, inst, p.replicas)
		}
	}
	// -- threads: replyrate counts the node's CPUs, not the container's limit
	if lim, ok := c.Resources.Limits[corev1.ResourceCPU]; ok {
		want := int(math.Ceil(float64(lim.MilliValue()) / 1000))
		if t, ok := flagValue(argv, "--threads", "-j"); !ok {
			res.fail("%s: a CPU limit of %s and no --threads: replyrate would start one thread per CPU of the node", where, lim.String())
		} else if n, err := strconv.Atoi(t); err != nil || n != want {
			res.fail("%s: --threads %s for a CPU limit of %s (want %d)", where, t, lim.String(), want)
		}
	}
	// -- the time zone of the CronJob's schedule is the job's
	if p.timeZone != "" {
		if tz, ok := e["REPLYRATE_TZ"]; !ok || tz != "value:"+p.timeZone {
			res.fail("%s: the CronJob's timeZone %s is not the REPLYRATE_TZ its pods get (%s)", where, p.timeZone, strings.TrimPrefix(tz, "value:"))
		}
	}
	s.checkEndpoints(p, c, argv, where, res)
}

// perPod: the --instance value differs from pod to pod.
func perPod(v string, e env, shell bool) bool {
	re := k8sVar
	if shell {
		re = shellVar
	}
	for _, m := range re.FindAllStringSubmatch(v, -1) {
		if src := e[m[1]]; src == "index" || src == "field:metadata.name" {
			return true
		}
	}
	return false
}

// checkEndpoints: the probes and the scrape annotations point at --metrics-addr.
func (s *set) checkEndpoints(p *pod, c *corev1.Container, argv []string, where string, res *result) {
	addr, served := flagValue(argv, "--metrics-addr")
	port := int32(-1)
	if served {
		i := strings.LastIndex(addr, ":")
		n, err := strconv.Atoi(addr[i+1:])
		if i < 0 || err != nil || n <= 0 || n > 65535 {
			res.fail("%s: --metrics-addr %s is no HOST:PORT", where, addr)
		} else {
			port = int32(n)
			if host := addr[:i]; host == "127.0.0.1" || host == "localhost" || host == "[::1]" {
				res.fail("%s: --metrics-addr %s: the kubelet and Prometheus reach the pod's address, not loopback", where, addr)
			}
			if containerPort(c, intstr.FromInt32(port)) < 0 {
				res.fail("%s: --metrics-addr port %d is not among the container's ports", where, port)
			}
		}
	}
	probe := func(kind string, pr *corev1.Probe, wantPath string) {
		if pr == nil {
			return
		}
		if pr.HTTPGet == nil {
			res.fail("%s: %s probe: an httpGet of %s is what replyrate serves", where, kind, wantPath)
			return
		}
		n := containerPort(c, pr.HTTPGet.Port)
		switch {
		case n < 0:
			res.fail("%s: %s probe port %s is not a port of the container", where, kind, pr.HTTPGet.Port.String())
		case !served:
			res.fail("%s: %s probe on port %d, but the command line has no --metrics-addr", where, kind, n)
		case n != port:
			res.fail("%s: %s probe on port %d, --metrics-addr serves %d", where, kind, n, port)
		}
		if pr.HTTPGet.Path != wantPath {
			res.fail("%s: %s probe path %q: replyrate serves %s for it", where, kind, pr.HTTPGet.Path, wantPath)
		}
	}
	probe("liveness", c.LivenessProbe, livenessPath)
	probe("readiness", c.ReadinessProbe, readinessPath)
	probe("startup", c.StartupProbe, livenessPath)
	if p.annotations["prometheus.io/scrape"] == "true" {
		if !served {
			res.fail("%s: prometheus.io/scrape, but no --metrics-addr", where)
		} else if p.annotations["prometheus.io/port"] != strconv.Itoa(int(port)) {
			res.fail("%s: prometheus.io/port %q, --metrics-addr serves %d", where, p.annotations["prometheus.io/port"], port)
		}
		if ap, ok := p.annotations["prometheus.io/path"]; ok && ap != metricsPath {
			res.fail("%s: prometheus.io/path %q: the metrics are at %s", where, ap, metricsPath)
		}
	}
}

// containerPort resolves a port (number or name) to a port of the container, -1 if none.
func containerPort(c *corev1.Container, p intstr.IntOrString) int32 {
	for _, cp := range c.Ports {
		if (p.Type == intstr.String && cp.Name == p.StrVal) || (p.Type == intstr.Int && cp.ContainerPort == p.IntVal) {
			return cp.ContainerPort
		}
	}
	return -1
}

func (s *set) checkPodMonitor(o object, res *result) {
	m := o.obj.(*monitoringv1.PodMonitor)
	sel, err := metav1.LabelSelectorAsSelector(&m.Spec.Selector)
	if err != nil {
		res.fail("%s: selector: %v", o.where, err)
		return
	}
	matched := 0
	for _, p := range s.pods {
		if !sel.Matches(labels.Set(p.labels)) {
			continue
		}
		matched++
		for _, ep := range m.Spec.PodMetricsEndpoints {
			if ep.Path != "" && ep.Path != metricsPath {
				res.fail("%s: path %q: the metrics are at %s", o.where, ep.Path, metricsPath)
			}
			var want intstr.IntOrString
			switch {
			case ep.Port != nil:
				want = intstr.FromString(*ep.Port)
			case ep.PortNumber != nil:
				want = intstr.FromInt32(*ep.PortNumber)
			default:
				res.fail("%s: an endpoint without port", o.where)
				continue
			}
			for ci := range p.spec.Containers {
				c := &p.spec.Containers[ci]
				cmd := replyrateCommand(p, c, &result{})
				addr, served := "", false
				if cmd != nil {
					addr, served = flagValue(cmd.argv, "--metrics-addr")
				}
				n := containerPort(c, want)
				if n < 0 {
					res.fail("%s: port %s is not a port of %s", o.where, want.String(), p.where)
				} else if !served || !strings.HasSuffix(addr, ":"+strconv.Itoa(int(n))) {
					res.fail("%s: scrapes port %d of %s, where replyrate serves no --metrics-addr", o.where, n, p.where)
				}
			}
		}
	}
	if matched == 0 {
		res.fail("%s: selector %s selects no pod of the set", o.where, sel)
	}
}

// checkConfig: `replyrate config check` accepts the configuration the pods read.
func checkConfig(where, content, binary string, res *result) {
	f, err := os.CreateTemp("", "k8scheck-*.conf")
	if err != nil {
		res.fail("%v", err)
		return
	}
	defer os.Remove(f.Name())
	f.WriteString(content)
	f.Close()
	var out bytes.Buffer
	cmd := exec.Command(binary, "config", "check", f.Name())
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		res.fail("%s: replyrate config check refuses its --config: %v: %s", where, err, strings.TrimSpace(out.String()))
	}
}
