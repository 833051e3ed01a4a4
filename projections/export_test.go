package projections

// SetWalkWindow lets tests make a filtered search change plans after n
// clients instead of walkWindow.
func (r *Queries) SetWalkWindow(n int) { r.walkWindow = n }
