package image

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"
)

// Archive writes the image Build makes (binary as Binary, its entrypoint)
// as a `docker save` archive to w, without a Docker engine: a cluster
// without a registry loads it with `kind load image-archive FILE`,
// `ctr -n k8s.io images import FILE` or `docker load -i FILE`. The layout
// is docker save's: manifest.json lists each image's Config, RepoTags and
// Layers, which containerd's importer reads too (containerd
// images/archive/importer.go); ref is REPO:TAG.
func Archive(w io.Writer, binary, ref string) error {
	if !strings.Contains(ref, ":") {
		return fmt.Errorf("image: archive %q: want REPO:TAG", ref)
	}
	layer, err := os.CreateTemp("", "c2clab-layer-")
	if err != nil {
		return fmt.Errorf("image: archive: %w", err)
	}
	defer os.Remove(layer.Name())
	defer layer.Close()
	diffID, size, err := writeLayer(layer, binary)
	if err != nil {
		return fmt.Errorf("image: archive %q: %w", ref, err)
	}
	config, err := json.Marshal(map[string]any{
		"architecture": runtime.GOARCH, "os": "linux",
		"config": map[string]any{"Entrypoint": []string{Binary}},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{"sha256:" + diffID}},
	})
	if err != nil {
		return err
	}
	configName := sha256Hex(config) + ".json"
	layerName := diffID + "/layer.tar"
	manifest, err := json.Marshal([]map[string]any{{"Config": configName, "RepoTags": []string{ref}, "Layers": []string{layerName}}})
	if err != nil {
		return err
	}
	tw := tar.NewWriter(w)
	if err := addBytes(tw, configName, config); err != nil {
		return err
	}
	if _, err := layer.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: layerName, Mode: 0o644, Size: size, Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}); err != nil {
		return err
	}
	if _, err := io.Copy(tw, layer); err != nil {
		return fmt.Errorf("image: archive %q: %w", ref, err)
	}
	if err := addBytes(tw, "manifest.json", manifest); err != nil {
		return err
	}
	return tw.Close()
}

// writeLayer writes the one layer (the binary at Binary) and returns its
// digest (the diff ID) and size.
func writeLayer(f *os.File, binary string) (string, int64, error) {
	in, err := os.Open(binary)
	if err != nil {
		return "", 0, err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return "", 0, err
	}
	h := sha256.New()
	tw := tar.NewWriter(io.MultiWriter(f, h))
	hdr := &tar.Header{Name: strings.TrimPrefix(Binary, "/"), Mode: 0o755, Size: st.Size(), Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}
	if err := tw.WriteHeader(hdr); err != nil {
		return "", 0, err
	}
	if _, err := io.Copy(tw, in); err != nil {
		return "", 0, err
	}
	if err := tw.Close(); err != nil {
		return "", 0, err
	}
	n, err := f.Seek(0, io.SeekCurrent)
	return hex.EncodeToString(h.Sum(nil)), n, err
}

func addBytes(tw *tar.Writer, name string, data []byte) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}); err != nil {
		return err
	}
	_, err := tw.Write(data)
	return err
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
