// Package kit writes the candidate's starter kit: the repository a hiring team publishes as a
// GitHub template. It holds the exercise's candidate-facing material exactly as
// fixtures/exercise embeds it (BRIEF.md, openapi.yaml, target.schema.json) and the starter files
// under template/: a package.json and tsconfig.json set up the way the grader builds (ES modules,
// Node.js 24, strict TypeScript, no dependencies), a src/index.ts stub exporting syncTickets with
// the contract's types, SUBMISSION.md with its track front matter, a RATIONALE.md outline for
// the AI-assisted track, a .gitignore and a README telling the candidate how to practise against
// grader mock.
package kit

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/itsm-grader/grader/fixtures/exercise"
)

//go:embed template/README.md template/package.json template/tsconfig.json template/src/index.ts
//go:embed template/SUBMISSION.md template/RATIONALE.md template/gitignore
var templates embed.FS

// starter maps each file of template/ to its path in the kit (a dotfile is embedded under a
// plain name: go:embed leaves dotfiles out of folders, and a visible name is easier to edit).
var starter = map[string]string{
	"README.md":     "README.md",
	"package.json":  "package.json",
	"tsconfig.json": "tsconfig.json",
	"src/index.ts":  "src/index.ts",
	"SUBMISSION.md": "SUBMISSION.md",
	"RATIONALE.md":  "RATIONALE.md",
	"gitignore":     ".gitignore",
}

// File is one file of the kit: its slash-separated path in the kit and its content.
type File struct {
	Path string
	Data []byte
}

// ErrNotEmpty says the folder the kit was to be written into already holds something.
var ErrNotEmpty = errors.New("the folder is not empty")

// Files returns the kit's files, sorted by path.
func Files() ([]File, error) {
	files := []File{
		{Path: "BRIEF.md", Data: exercise.Brief()},
		{Path: "openapi.yaml", Data: exercise.OpenAPI()},
		{Path: "target.schema.json", Data: exercise.TargetSchema()},
	}
	for name, dst := range starter {
		data, err := templates.ReadFile("template/" + name)
		if err != nil {
			return nil, fmt.Errorf("read kit template %s: %w", name, err)
		}
		files = append(files, File{Path: dst, Data: data})
	}
	sort.Slice(files, func(a, b int) bool { return files[a].Path < files[b].Path })
	return files, nil
}

// Write writes the kit into dir, which must be an empty folder or not exist yet (it is then
// made, with its parents). It refuses a folder that holds anything (ErrNotEmpty), and never
// overwrites a file: every file is created new, through an os.Root confined to dir. It returns
// the files written.
func Write(dir string) ([]File, error) {
	files, err := Files()
	if err != nil {
		return nil, err
	}
	if err := emptyFolder(dir); err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", dir, err)
	}
	defer root.Close()
	for _, f := range files {
		if err := create(root, f); err != nil {
			return nil, fmt.Errorf("write %s: %w", f.Path, err)
		}
	}
	return files, nil
}

// emptyFolder makes dir when it does not exist and refuses it when it is not an empty folder.
func emptyFolder(dir string) error {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("make %s: %w", dir, err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("check %s: %w", dir, err)
	case !st.IsDir():
		return fmt.Errorf("%s is a file, not a folder", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("check %s: %w", dir, err)
	}
	if len(entries) == 0 {
		return nil
	}
	names := make([]string, 0, 3)
	for _, e := range entries[:min(3, len(entries))] {
		names = append(names, e.Name())
	}
	more := ""
	if len(entries) > len(names) {
		more = fmt.Sprintf(" and %d more", len(entries)-len(names))
	}
	return fmt.Errorf("%w: %s holds %s%s; give a new or empty folder", ErrNotEmpty, dir, strings.Join(names, ", "), more)
}

// create writes one file under root, its folders first; the file must not exist yet.
func create(root *os.Root, f File) error {
	if d := path.Dir(f.Path); d != "." {
		if err := root.MkdirAll(filepath.FromSlash(d), 0o755); err != nil {
			return err
		}
	}
	fh, err := root.OpenFile(filepath.FromSlash(f.Path), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = fh.Write(f.Data)
	return errors.Join(err, fh.Close())
}
