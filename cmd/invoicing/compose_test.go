package main

import (
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	yaml "github.com/oasdiff/yaml3"
)

// composeFile is the part of docker-compose.yml the test reads. Anchors,
// aliases and merge keys are resolved by the parser, as Compose does.
type composeFile struct {
	Services map[string]composeService `yaml:"services"`
}

type composeService struct {
	Image       string `yaml:"image"`
	Build       any    `yaml:"build"`
	Environment any    `yaml:"environment"` // a mapping or a list of NAME=value
	EnvFile     any    `yaml:"env_file"`
}

// TestComposeEnvIsConfig keeps docker-compose.yml consistent with the binary:
// every variable set on a service that runs the invoicing image is one the
// binary reads (envVars), and the values pass loadConfig.
func TestComposeEnvIsConfig(t *testing.T) {
	services := invoicingServices(t, "../../docker-compose.yml")
	for _, name := range []string{"migrate", "invoicing", "demo-key"} {
		if _, ok := services[name]; !ok {
			t.Errorf("service %q does not run the invoicing image (services that do: %v)", name, sortedKeys(services))
		}
	}
	for _, name := range sortedKeys(services) {
		env, err := composeEnv(services[name])
		if err != nil {
			t.Errorf("service %q: %v", name, err)
			continue
		}
		for _, k := range sortedKeys(env) {
			if !slices.ContainsFunc(envVars, func(v envVar) bool { return v.Name == k }) {
				t.Errorf("service %q sets %s, which the binary does not read (cmd/invoicing/config.go: envVars)", name, k)
			}
		}
		if _, err := loadConfig(func(k string) string { return env[k] }); err != nil {
			t.Errorf("service %q: %v", name, err)
		}
	}
}

// invoicingServices returns the services of the compose file at path that run
// the image built from this repository: those built from its root (build: .,
// as opposed to deploy/ images of other programs), and those using the image
// such a service builds.
func invoicingServices(t *testing.T, path string) map[string]composeService {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f composeFile
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	fromRoot := func(svc composeService) bool {
		switch b := svc.Build.(type) {
		case string:
			return b == "." || b == "./"
		case map[string]any:
			return b["context"] == "." || b["context"] == "./"
		}
		return false
	}
	built := map[string]bool{}
	for _, svc := range f.Services {
		if fromRoot(svc) && svc.Image != "" {
			built[svc.Image] = true
		}
	}
	out := map[string]composeService{}
	for name, svc := range f.Services {
		if fromRoot(svc) || built[svc.Image] {
			out[name] = svc
		}
	}
	return out
}

// composeEnv returns the variables a service sets. It returns an error for
// what the test cannot check: env_file, interpolation, a malformed entry.
func composeEnv(svc composeService) (map[string]string, error) {
	if svc.EnvFile != nil {
		return nil, fmt.Errorf("env_file is not checked against the binary's config: use environment")
	}
	env := map[string]string{}
	set := func(k string, v any) error {
		s := ""
		if v != nil { // "NAME:" with no value passes the host's through
			s = fmt.Sprint(v)
		}
		if strings.Contains(s, "$") {
			return fmt.Errorf("%s=%q: interpolation is not checked against the binary's config", k, s)
		}
		env[k] = s
		return nil
	}
	switch e := svc.Environment.(type) {
	case nil:
	case map[string]any:
		for k, v := range e {
			if err := set(k, v); err != nil {
				return nil, err
			}
		}
	case []any:
		for _, item := range e {
			k, v, _ := strings.Cut(fmt.Sprint(item), "=")
			if err := set(k, v); err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("environment is a %T, not a mapping or a list", e)
	}
	return env, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
