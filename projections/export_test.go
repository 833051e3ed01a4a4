package projections

// SetWalkWindow lets tests make a filtered search change plans after n
// clients instead of walkWindow.
func (r *Queries) SetWalkWindow(n int) { r.walkWindow = n }

// SetWordLimit makes searches merge at most n words of a query word.
func (r *Queries) SetWordLimit(n int) { r.wordLimit = n }
