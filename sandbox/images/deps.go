package images

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// object is what the dependency walk needs from one ELF file.
type object struct {
	path    string // the path the loader looks it up under
	machine elf.Machine
	class   elf.Class
	order   binary.ByteOrder
	interp  string   // PT_INTERP, empty for a library or a static executable
	soname  string   // DT_SONAME
	needed  []string // DT_NEEDED
	search  []string // DT_RUNPATH, or DT_RPATH when there is none, with $ORIGIN expanded
}

// readObject reads the dynamic linking facts of the ELF file at path.
func readObject(path string) (object, error) {
	f, err := elf.Open(path)
	if err != nil {
		return object{}, fmt.Errorf("read ELF %s: %w", path, err)
	}
	defer f.Close()
	o := object{path: path, machine: f.Machine, class: f.Class, order: f.ByteOrder}
	if o.interp, err = interpreter(f); err != nil {
		return object{}, fmt.Errorf("read ELF %s: %w", path, err)
	}
	tags := []elf.DynTag{elf.DT_SONAME, elf.DT_NEEDED, elf.DT_RUNPATH, elf.DT_RPATH}
	values := make(map[elf.DynTag][]string, len(tags))
	for _, tag := range tags {
		if values[tag], err = f.DynString(tag); err != nil {
			return object{}, fmt.Errorf("read ELF %s: %v: %w", path, tag, err)
		}
	}
	o.needed = values[elf.DT_NEEDED]
	if len(values[elf.DT_SONAME]) > 0 {
		o.soname = values[elf.DT_SONAME][0]
	}
	paths := values[elf.DT_RUNPATH]
	if len(paths) == 0 {
		paths = values[elf.DT_RPATH]
	}
	o.search = expandSearchPath(paths, filepath.Dir(path))
	return o, nil
}

// interpreter returns the program interpreter (the loader) an executable names, if any.
func interpreter(f *elf.File) (string, error) {
	for _, p := range f.Progs {
		if p.Type != elf.PT_INTERP {
			continue
		}
		data := make([]byte, p.Filesz)
		if _, err := p.ReadAt(data, 0); err != nil {
			return "", fmt.Errorf("read PT_INTERP: %w", err)
		}
		return strings.TrimRight(string(data), "\x00"), nil
	}
	return "", nil
}

// expandSearchPath splits DT_RUNPATH/DT_RPATH values on ":" and expands $ORIGIN.
func expandSearchPath(values []string, origin string) []string {
	var dirs []string
	for _, v := range values {
		for _, dir := range strings.Split(v, ":") {
			dir = strings.ReplaceAll(dir, "${ORIGIN}", origin)
			dir = strings.ReplaceAll(dir, "$ORIGIN", origin)
			if dir != "" {
				dirs = append(dirs, filepath.Clean(dir))
			}
		}
	}
	return dirs
}

// multiarchTriplets names Debian's multiarch library directory for each machine.
var multiarchTriplets = map[elf.Machine]string{
	elf.EM_X86_64:    "x86_64-linux-gnu",
	elf.EM_386:       "i386-linux-gnu",
	elf.EM_AARCH64:   "aarch64-linux-gnu",
	elf.EM_ARM:       "arm-linux-gnueabihf",
	elf.EM_RISCV:     "riscv64-linux-gnu",
	elf.EM_PPC64:     "powerpc64le-linux-gnu",
	elf.EM_S390:      "s390x-linux-gnu",
	elf.EM_LOONGARCH: "loongarch64-linux-gnu",
}

// defaultLibraryDirs lists where the loader looks after the object's own search path.
func defaultLibraryDirs(machine elf.Machine, class elf.Class) []string {
	var dirs []string
	if triplet, ok := multiarchTriplets[machine]; ok {
		dirs = append(dirs, "/lib/"+triplet, "/usr/lib/"+triplet)
	}
	if class == elf.ELFCLASS64 {
		dirs = append(dirs, "/lib64", "/usr/lib64")
	}
	return append(dirs, "/lib", "/usr/lib")
}

// Dependencies lists the absolute host paths of the shared libraries an ELF executable needs, the
// loader included, recursively, de-duplicated, sorted. Symlinks are resolved to the files they
// name but recorded under the path the loader looks up (e.g. /lib/x86_64-linux-gnu/libc.so.6).
func Dependencies(path string) ([]string, error) {
	exe, err := readObject(path)
	if err != nil {
		return nil, fmt.Errorf("list dependencies: %w", err)
	}
	w := walk{exe: exe, bySoname: map[string]string{}, seen: map[string]bool{}}
	if err := w.run(); err != nil {
		return nil, fmt.Errorf("list dependencies of %s: %w", path, err)
	}
	deps := make([]string, 0, len(w.seen))
	for p := range w.seen {
		deps = append(deps, p)
	}
	slices.Sort(deps)
	return deps, nil
}

// walk resolves DT_NEEDED entries breadth first, starting at an executable.
type walk struct {
	exe      object
	bySoname map[string]string // names already satisfied, as the loader matches them
	seen     map[string]bool   // recorded paths
	queue    []object
}

func (w *walk) run() error {
	if w.exe.interp != "" {
		if err := w.addInterpreter(); err != nil {
			return err
		}
	}
	w.queue = append(w.queue, w.exe)
	for len(w.queue) > 0 {
		o := w.queue[0]
		w.queue = w.queue[1:]
		for _, name := range o.needed {
			if err := w.resolve(o, name); err != nil {
				return err
			}
		}
	}
	return nil
}

// addInterpreter records the loader at its PT_INTERP path. The loader is already in memory when
// libraries load, so a DT_NEEDED naming its soname (glibc's libc.so.6 names
// ld-linux-x86-64.so.2) is satisfied by it rather than by a second copy found in a library dir.
func (w *walk) addInterpreter() error {
	ld, err := readObject(w.exe.interp)
	if err != nil {
		return fmt.Errorf("loader: %w", err)
	}
	w.record(ld, filepath.Base(ld.path))
	return nil
}

// record notes a library as found, under the name it was needed by and its soname.
func (w *walk) record(o object, name string) {
	w.bySoname[name] = o.path
	if o.soname != "" {
		w.bySoname[o.soname] = o.path
	}
	if !w.seen[o.path] {
		w.seen[o.path] = true
		w.queue = append(w.queue, o)
	}
}

// resolve finds the library name that the object from needs.
func (w *walk) resolve(from object, name string) error {
	if _, ok := w.bySoname[name]; ok {
		return nil
	}
	if strings.Contains(name, "/") {
		return w.found(name, name, from)
	}
	dirs := append(slices.Clone(from.search), defaultLibraryDirs(w.exe.machine, w.exe.class)...)
	for _, dir := range dirs {
		candidate := filepath.Join(dir, name)
		if ok, err := w.compatible(candidate); err != nil {
			return err
		} else if ok {
			return w.found(name, candidate, from)
		}
	}
	return fmt.Errorf("library %s needed by %s not found in %s", name, from.path, strings.Join(dirs, ":"))
}

func (w *walk) found(name, path string, from object) error {
	o, err := readObject(path)
	if err != nil {
		return fmt.Errorf("library %s needed by %s: %w", name, from.path, err)
	}
	w.record(o, name)
	return nil
}

// compatible reports whether path is a regular file (after symlinks) holding an ELF object the
// executable's loader would accept; the loader skips other machines and classes.
func (w *walk) compatible(path string) (bool, error) {
	info, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) || (err == nil && !info.Mode().IsRegular()) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("look up library: %w", err)
	}
	f, err := elf.Open(path)
	if err != nil {
		return false, nil
	}
	defer f.Close()
	return f.Machine == w.exe.machine && f.Class == w.exe.class && f.ByteOrder == w.exe.order, nil
}
