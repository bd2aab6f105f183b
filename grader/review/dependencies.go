package review

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"

	"github.com/itsm-grader/grader/grader/finding"
)

var dependenciesRule = Rule{
	ID: "static.dependencies", Title: "Runtime dependencies fit the task", Severity: finding.Low,
	Indicator: finding.HeavyFrameworks,
	Question:  "What does each runtime dependency buy you here, and what would it cost to drop it?",
	Judge:     judgeDependencies,
}

// heavy are frameworks and libraries far heavier than a ticket sync needs (a server framework,
// an ORM, a whole utility belt, a deprecated HTTP client).
var heavy = map[string]string{
	"express": "a web server framework", "koa": "a web server framework", "fastify": "a web server framework",
	"@hapi/hapi": "a web server framework", "@nestjs/core": "an application framework", "@nestjs/common": "an application framework",
	"rxjs": "a reactive streams library", "lodash": "a whole utility library", "moment": "a deprecated date library",
	"request": "a deprecated HTTP client", "typeorm": "an ORM", "sequelize": "an ORM", "mongoose": "an ODM",
	"aws-sdk": "the whole AWS SDK v2",
}

// Thresholds: the brief's task needs no dependency at all; a client library and a retry helper
// are reasonable, five is already a lot, and 5 MiB installed is over ten times axios.
const (
	maxDirectDeps  = 5
	maxDepsBytes   = 5 << 20
	maxWalkEntries = 50000
)

type packageJSON struct {
	Dependencies map[string]string `json:"dependencies"`
}

type lockfile struct {
	Packages map[string]struct {
		Dev bool `json:"dev"`
	} `json:"packages"`
}

func judgeDependencies(in *Input) finding.Judgement {
	if in.Sources == nil || in.Sources.PackageJSON == "" {
		return finding.Judged(finding.NA, "no package.json to read")
	}
	raw := []byte(in.Sources.PackageJSON)
	var pkg packageJSON
	if err := json.Unmarshal(raw, &pkg); err != nil {
		return finding.Judged(finding.NA, "package.json does not parse: %s", clean(err.Error()))
	}
	names := make([]string, 0, len(pkg.Dependencies))
	for n := range pkg.Dependencies {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) == 0 {
		return finding.Judged(finding.Pass, "no runtime dependency: the standard library and Node's fetch do the job").Measure("direct", 0)
	}
	transitive := 0
	if in.Sources.PackageLock != "" {
		var lock lockfile
		if json.Unmarshal([]byte(in.Sources.PackageLock), &lock) == nil {
			for k, p := range lock.Packages {
				if strings.HasPrefix(k, "node_modules/") && !p.Dev {
					transitive++
				}
			}
		}
	}
	size := in.Sources.NodeModulesBytes
	var heavyOnes []string
	j := finding.Judgement{}
	for _, n := range names {
		text := fmt.Sprintf("%s %s", clean(n), clean(pkg.Dependencies[n]))
		if why, ok := heavy[n]; ok || strings.HasPrefix(n, "@nestjs/") {
			if !ok {
				why = "an application framework"
			}
			heavyOnes = append(heavyOnes, fmt.Sprintf("%s (%s)", n, why))
			text += ": " + why
		}
		line, src := lineOf(raw, `"`+n+`"`)
		j = j.With(located("package.json", line, 1, text, src))
	}
	j.Summary = fmt.Sprintf("%s, %s in the lockfile, %s installed", plural(len(names), "runtime dependency", "runtime dependencies"),
		plural(transitive, "package", "packages"), mib(size))
	var why []string
	if len(heavyOnes) > 0 {
		why = append(why, "heavier than the task needs: "+strings.Join(heavyOnes, ", "))
	}
	if len(names) > maxDirectDeps {
		why = append(why, fmt.Sprintf("more than %d direct dependencies", maxDirectDeps))
	}
	if size > maxDepsBytes {
		why = append(why, fmt.Sprintf("over %s installed", mib(maxDepsBytes)))
	}
	j.Verdict = finding.Pass
	if len(why) > 0 {
		j.Verdict = finding.Warn
		j.Summary += "; " + strings.Join(why, "; ")
	}
	return j.Measure("direct", float64(len(names))).Measure("transitive", float64(transitive)).Measure("installed_bytes", float64(size))
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// dirSize sums the regular files under dir (the installed node_modules), without following
// links, up to a cap on entries.
func dirSize(dir string) int64 {
	var total int64
	n := 0
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if n++; n > maxWalkEntries {
			return filepath.SkipAll
		}
		if d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				total += info.Size()
			}
		}
		return nil
	})
	return total
}
