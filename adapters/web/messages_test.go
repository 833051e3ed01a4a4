package web

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"github.com/clientreg/clientreg/domain"
)

// Every message exists in every console language with the same
// placeholders, and every key a template names exists.
func TestMessagesAreCompleteInEveryLanguage(t *testing.T) {
	verbs := regexp.MustCompile(`%[sd]`)
	for key, m := range messages {
		for i, lang := range consoleLangs {
			if strings.TrimSpace(m[i]) == "" {
				t.Errorf("%s has no %s text", key, lang)
			}
			if got, want := verbs.FindAllString(m[i], -1), verbs.FindAllString(m[0], -1); strings.Join(got, "") != strings.Join(want, "") {
				t.Errorf("%s in %s has placeholders %v, English %v", key, lang, got, want)
			}
		}
	}
	keys := regexp.MustCompile(`\.T "([a-z0-9_.-]+)"`)
	err := fs.WalkDir(templateFiles, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, err := fs.ReadFile(templateFiles, path)
		if err != nil {
			return err
		}
		for _, m := range keys.FindAllStringSubmatch(string(src), -1) {
			if !hasMessage(m[1]) {
				t.Errorf("%s uses the unknown message %q", path, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The keys templates build from values ("source." + a provider) exist for
// every value.
func TestMessagesExistForEveryValueShown(t *testing.T) {
	var keys []string
	for _, p := range providers {
		keys = append(keys, "source."+p, "integrations.about."+p)
	}
	for _, a := range accessStatuses {
		keys = append(keys, "access."+a)
	}
	for _, s := range []string{domain.ImportStatusAnalyzed, domain.ImportStatusRunning, domain.ImportStatusExecuted,
		domain.ImportStatusFailed, domain.ImportStatusUndone, domain.ImportStatusRefused} {
		keys = append(keys, "import.status."+s)
	}
	for _, s := range []string{domain.SyncRunning, domain.SyncSucceeded, domain.SyncFailedRun} {
		keys = append(keys, "integrations.run."+s)
	}
	for _, r := range tokenRoles {
		keys = append(keys, "role."+r, "tokens.can."+r)
	}
	for _, l := range []domain.Layout{domain.LayoutClients, domain.LayoutContacts} {
		keys = append(keys, "import.layout."+string(l))
	}
	for _, e := range auditTypes {
		keys = append(keys, "event."+e)
	}
	for _, k := range keys {
		if !hasMessage(k) {
			t.Errorf("no message %q", k)
		}
	}
}
