package commands

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/google/uuid"

	"github.com/clientreg/clientreg/domain"
)

// RemapImport analyses an import's stored file again with what the user
// says of it: a column mapping that wins over the detected one, the header
// row, the sheet, the layout. What it leaves empty is as the last analysis
// had it, so a file no alias fits is imported without being edited.
type RemapImport struct {
	Origin   domain.Origin
	ImportID uuid.UUID
	Options  FileOptions
	Mapping  domain.MappingOptions
	Mode     string
	Language string
}

type RemapImportHandler struct {
	analyze AnalyzeImportHandler
}

// Handle re-runs the analysis. A file that the new mapping still cannot
// import is refused as before (a *domain.RefusedError) and nothing is
// recorded: the import stays as it was.
func (h RemapImportHandler) Handle(ctx context.Context, cmd RemapImport) (Analysis, error) {
	if err := domain.CheckImportRequest(cmd.Mapping, map[string]string{"format": cmd.Options.Format,
		"encoding": cmd.Options.Encoding, "delimiter": cmd.Options.Delimiter, "sheet": cmd.Options.Sheet}); err != nil {
		return Analysis{}, err
	}
	imp, err := loadImport(ctx, h.analyze.store, cmd.Origin.TenantID, cmd.ImportID)
	if err != nil {
		return Analysis{}, err
	}
	if err := imp.CanRemap(); err != nil {
		return Analysis{}, err
	}
	prev := imp.Analysis() // empty for a file refused for its mapping
	opts := cmd.Options
	mapping := cmd.Mapping
	if opts == (FileOptions{}) {
		opts = FileOptions{Format: prev.File.Format, Encoding: prev.File.Encoding, Delimiter: prev.File.Delimiter, Sheet: prev.File.Sheet}
		// The same rows: where the header is, or that there is none,
		// stays as the last analysis had it (a header-less file remapped
		// keeps its first row as data).
		if mapping.HeaderRow == 0 && !mapping.NoHeader && prev.FileSHA256 != "" {
			mapping.HeaderRow, mapping.NoHeader = prev.HeaderRowNumber(), !prev.HasHeader
		}
	}
	if mapping.Layout == "" {
		mapping.Layout = prev.Layout
	}
	if mapping.Source == "" && prev.Source != domain.DefaultImportSource {
		mapping.Source = prev.Source
	}
	mode, err := domain.ParseImportMode(cmp.Or(cmd.Mode, prev.Mode))
	if err != nil {
		return Analysis{}, err
	}
	content, size, closer, err := h.analyze.repo.OpenFile(ctx, cmd.Origin.TenantID, cmd.ImportID)
	if err != nil {
		return Analysis{}, err
	}
	defer closer.Close()
	file := StoredFile{Name: imp.FileName(), Size: size, SHA256: prev.FileSHA256, Content: content}
	if file.SHA256 == "" {
		if file.SHA256, err = fileSHA256(content, size); err != nil {
			return Analysis{}, err
		}
	}
	a, err := h.analyze.analyze(ctx, cmd.ImportID, AnalyzeImport{Origin: cmd.Origin, File: file, Options: opts,
		Mapping: mapping, Mode: mode, Language: cmp.Or(cmd.Language, prev.Language)}, mode)
	if err != nil {
		return Analysis{ImportID: cmd.ImportID}, err
	}
	if err := imp.Remap(a.Event); err != nil {
		return Analysis{}, err
	}
	a.ImportID = cmd.ImportID
	if a.Position, err = h.analyze.repo.SaveRemap(ctx, cmd.Origin, imp, a.Issues); err != nil {
		return Analysis{}, err
	}
	return a, nil
}

func fileSHA256(content io.ReaderAt, size int64) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(content, 0, size)); err != nil {
		return "", fmt.Errorf("read import file: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
