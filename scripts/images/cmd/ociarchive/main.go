// Command ociarchive packs an image into an OCI image archive that `ctr images import` takes, and
// that `crane push` sends to a registry, under the image name given. No registry is needed or asked.
// The image has one layer: either one static binary with /etc/passwd and /etc/group naming a
// non-root user, and /tmp; or a whole root file system, given as a tar, gzipped into the layer.
//
//	ociarchive -name docker.io/library/traefik:v3.6.12 -binary ./traefik -entrypoint /traefik -o traefik.tar
//	ociarchive -name kube-console.local/console:abc -rootfs rootfs.tar -entrypoint /app/scripts/console \
//	    -cmd web -user 10001 -workdir /app -env PATH=/app/.venv/bin:/usr/bin:/bin -o console.tar
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"strings"
	"time"
)

// A fixed time for every entry, so the same binary always makes the same image.
var epoch = time.Unix(0, 0).UTC()

type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int               `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Platform    map[string]string `json:"platform,omitempty"`
}

func digest(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func addFile(w *tar.Writer, name string, mode int64, data []byte) {
	header := &tar.Header{Name: name, Mode: mode, Size: int64(len(data)), ModTime: epoch, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
	must(w.WriteHeader(header))
	_, err := w.Write(data)
	must(err)
}

func addDir(w *tar.Writer, name string, mode int64) {
	must(w.WriteHeader(&tar.Header{Name: name, Mode: mode, ModTime: epoch, Typeflag: tar.TypeDir, Format: tar.FormatPAX}))
}

// layer is the image's one filesystem layer, uncompressed.
func layer(binary []byte, entrypoint string) []byte {
	var buffer bytes.Buffer
	w := tar.NewWriter(&buffer)
	addDir(w, "etc/", 0o755)
	addFile(w, "etc/passwd", 0o644, []byte("root:x:0:0:root:/:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/:/sbin/nologin\n"))
	addFile(w, "etc/group", 0o644, []byte("root:x:0:\nnonroot:x:65532:\n"))
	addDir(w, "tmp/", 0o1777)
	path := strings.TrimPrefix(entrypoint, "/")
	if dir := path[:strings.LastIndex(path, "/")+1]; dir != "" {
		addDir(w, dir, 0o755)
	}
	addFile(w, path, 0o755, binary)
	must(w.Close())
	return buffer.Bytes()
}

// gzipped compresses a layer with a fixed header, so the same layer always makes the same blob.
func gzipped(data []byte) []byte {
	var buffer bytes.Buffer
	w, err := gzip.NewWriterLevel(&buffer, gzip.BestSpeed)
	must(err)
	w.ModTime = epoch
	_, err = w.Write(data)
	must(err)
	must(w.Close())
	return buffer.Bytes()
}

// list gathers a repeated flag's values.
type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	var env, cmd list
	name := flag.String("name", "", "the image name, e.g. docker.io/library/traefik:v3.6.12")
	binaryPath := flag.String("binary", "", "the static binary to run")
	rootfsPath := flag.String("rootfs", "", "a tar of the whole root file system (instead of -binary)")
	entrypoint := flag.String("entrypoint", "", "the command the image runs, e.g. /traefik (with -binary: where it goes)")
	flag.Var(&cmd, "cmd", "an argument the entrypoint gets by default (repeatable)")
	flag.Var(&env, "env", "NAME=VALUE in the image's environment (repeatable; default PATH=/)")
	workdir := flag.String("workdir", "/", "the working directory")
	user := flag.String("user", "65532", "the user the image runs as by default")
	output := flag.String("o", "", "the archive to write")
	flag.Parse()
	if *name == "" || (*binaryPath == "") == (*rootfsPath == "") || *entrypoint == "" || *output == "" {
		flag.Usage()
		os.Exit(2)
	}
	var layerData, blob []byte
	mediaType := "application/vnd.oci.image.layer.v1.tar"
	if *rootfsPath != "" {
		var err error
		layerData, err = os.ReadFile(*rootfsPath)
		must(err)
		blob, mediaType = gzipped(layerData), mediaType+"+gzip"
	} else {
		binary, err := os.ReadFile(*binaryPath)
		must(err)
		layerData = layer(binary, *entrypoint)
		blob = layerData
	}
	if len(env) == 0 {
		env = list{"PATH=/"}
	}
	imageConfig := map[string]any{
		"Entrypoint": []string{*entrypoint},
		"User":       *user,
		"Env":        []string(env),
		"WorkingDir": *workdir,
	}
	if len(cmd) > 0 {
		imageConfig["Cmd"] = []string(cmd)
	}
	config := map[string]any{
		"architecture": "amd64",
		"os":           "linux",
		"created":      epoch.Format(time.RFC3339),
		"config":       imageConfig,
		"rootfs":       map[string]any{"type": "layers", "diff_ids": []string{digest(layerData)}},
	}
	configData := mustJSON(config)
	manifest := map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config":        descriptor{MediaType: "application/vnd.oci.image.config.v1+json", Digest: digest(configData), Size: len(configData)},
		"layers":        []descriptor{{MediaType: mediaType, Digest: digest(blob), Size: len(blob)}},
	}
	manifestData := mustJSON(manifest)
	tag := (*name)[strings.LastIndex(*name, ":")+1:]
	index := map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.index.v1+json",
		"manifests": []descriptor{{
			MediaType:   "application/vnd.oci.image.manifest.v1+json",
			Digest:      digest(manifestData),
			Size:        len(manifestData),
			Annotations: map[string]string{"io.containerd.image.name": *name, "org.opencontainers.image.ref.name": tag},
			Platform:    map[string]string{"architecture": "amd64", "os": "linux"},
		}},
	}

	file, err := os.Create(*output)
	must(err)
	archive := tar.NewWriter(file)
	addFile(archive, "oci-layout", 0o644, []byte(`{"imageLayoutVersion":"1.0.0"}`))
	addDir(archive, "blobs/", 0o755)
	addDir(archive, "blobs/sha256/", 0o755)
	for _, blob := range [][]byte{blob, configData, manifestData} {
		addFile(archive, "blobs/sha256/"+strings.TrimPrefix(digest(blob), "sha256:"), 0o644, blob)
	}
	addFile(archive, "index.json", 0o644, mustJSON(index))
	must(archive.Close())
	must(file.Close())
	fmt.Println(digest(manifestData))
}

func mustJSON(value any) []byte {
	data, err := json.Marshal(value)
	must(err)
	return data
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
