package bundler

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Stream writes result.json and, when the build worked, everything under Work/out (the bundle
// and the source with its node_modules) to w as one gzipped tar stream. Only regular files and
// folders exist there (the copy and the unpacking refuse or drop everything else); tar.AddFS
// fails on anything that is not one.
func Stream(w io.Writer, work string, res *Result) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
	if err != nil {
		return fmt.Errorf("stream output: %w", err)
	}
	tw := tar.NewWriter(zw)
	raw, err := json.Marshal(res)
	if err != nil {
		return fmt.Errorf("stream output: %w", err)
	}
	if err := tw.WriteHeader(&tar.Header{Name: ResultName, Mode: 0o644, Size: int64(len(raw)), Typeflag: tar.TypeReg}); err != nil {
		return fmt.Errorf("stream output: %w", err)
	}
	if _, err := tw.Write(raw); err != nil {
		return fmt.Errorf("stream output: %w", err)
	}
	if res.Failure == nil {
		if err := tw.AddFS(os.DirFS(filepath.Join(work, "out"))); err != nil {
			return fmt.Errorf("stream output: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("stream output: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("stream output: %w", err)
	}
	return nil
}
