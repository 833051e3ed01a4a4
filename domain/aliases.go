package domain

import (
	_ "embed"
	"strconv"
	"strings"
)

// aliasesTSV is the table of header aliases (aliases.tsv): data, kept in
// one file so that what a well-known export's headers become is reviewed
// line by line.
//
//go:embed aliases.tsv
var aliasesTSV string

// headerAlias is one line of the table.
type headerAlias struct {
	key   string // column key: "email", "external_id", "notes"
	alias string // as written in the table
	rank  int    // 1 = preferred; see aliases.tsv
	line  int
}

// aliasTable is the parsed table, in file order; aliasErrors lists lines
// that could not be read (a test fails on any).
var aliasTable, aliasErrors = parseAliases(aliasesTSV)

func parseAliases(tsv string) ([]headerAlias, []string) {
	var out []headerAlias
	var errs []string
	for n, line := range strings.Split(tsv, "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.Split(line, "\t")
		a := headerAlias{rank: 1, line: n + 1}
		switch len(parts) {
		case 3:
			r, err := strconv.Atoi(parts[2])
			if err != nil || r < 1 {
				errs = append(errs, "line "+strconv.Itoa(n+1)+": rank "+strconv.Quote(parts[2])+" is not a positive number")
				continue
			}
			a.rank = r
			fallthrough
		case 2:
			a.key, a.alias = parts[0], parts[1]
		default:
			errs = append(errs, "line "+strconv.Itoa(n+1)+": want key<TAB>alias[<TAB>rank]")
			continue
		}
		if _, ok := ParseColumnKey(a.key, LayoutClients); !ok || NormalizeHeader(a.alias) == "" {
			errs = append(errs, "line "+strconv.Itoa(n+1)+": "+strconv.Quote(a.key)+" is not a column key or the alias is empty")
			continue
		}
		out = append(out, a)
	}
	return out, errs
}

// aliasesByKey groups the table's aliases by column key.
func aliasesByKey(table []headerAlias) map[string][]string {
	m := map[string][]string{}
	for _, a := range table {
		m[a.key] = append(m[a.key], a.alias)
	}
	return m
}

// aliasRanks gives each normalised alias its rank; the first line naming
// an alias decides.
func aliasRanks(table []headerAlias) map[string]int {
	m := map[string]int{}
	for _, a := range table {
		n := NormalizeHeader(a.alias)
		if _, ok := m[n]; !ok {
			m[n] = a.rank
		}
	}
	return m
}

// HeaderRank is how strongly a header claims its column when several
// columns of a file land on the same field: 1 is the strongest (a business
// phone before a mobile, a mobile before a home phone). Headers outside
// the table (templates, keys) rank 1.
func HeaderRank(header string) int {
	if r, ok := headerRanks[NormalizeHeader(header)]; ok {
		return r
	}
	return 1
}
