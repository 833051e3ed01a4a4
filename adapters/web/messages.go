package web

import (
	"fmt"
	"slices"

	"github.com/clientreg/clientreg/adapters/i18n"
	"github.com/clientreg/clientreg/domain"
)

// translate renders a console message in lang (one of consoleLangs); args
// fill its %s and %d. An unknown key shows itself, which a test forbids.
func translate(lang, key string, args ...any) string {
	m, ok := messages[key]
	if !ok {
		return key
	}
	i := slices.Index(consoleLangs, lang)
	if i < 0 {
		i = 0
	}
	if len(args) == 0 {
		return m[i]
	}
	return fmt.Sprintf(m[i], args...)
}

func hasMessage(key string) bool { _, ok := messages[key]; return ok }

// fieldMessage says what is wrong with a field, next to it, in lang: the
// console's own sentence for the code when it has one, else the import's.
func fieldMessage(lang string, e domain.FieldError, value ...string) string {
	if hasMessage("field." + e.Code) {
		return translate(lang, "field."+e.Code)
	}
	params := map[string]string{"field": e.Field}
	if len(value) > 0 && value[0] != "" {
		params["value"] = value[0]
	}
	return i18n.Message(lang, e.Code, params)
}

// messages: key -> English, French, Dutch.
var messages = map[string][3]string{
	"app.name":         {"Client registry", "Registre des clients", "Klantenregister"},
	"nav.main":         {"Main", "Principal", "Hoofdmenu"},
	"nav.dashboard":    {"Dashboard", "Tableau de bord", "Dashboard"},
	"nav.clients":      {"Clients", "Clients", "Klanten"},
	"nav.imports":      {"Imports", "Imports", "Imports"},
	"nav.lists":        {"Lists", "Listes", "Lijsten"},
	"nav.audit":        {"Audit", "Audit", "Audit"},
	"nav.settings":     {"Settings", "Paramètres", "Instellingen"},
	"nav.skip":         {"Skip to content", "Aller au contenu", "Naar de inhoud"},
	"nav.language":     {"Language", "Langue", "Taal"},
	"nav.signed_in_as": {"Signed in as", "Connecté en tant que", "Aangemeld als"},
	"nav.signout":      {"Sign out", "Se déconnecter", "Afmelden"},
	"lang.en":          {"English", "English", "English"},
	"lang.fr":          {"Français", "Français", "Français"},
	"lang.nl":          {"Nederlands", "Nederlands", "Nederlands"},
	"role.admin":       {"Admin", "Administrateur", "Beheerder"},
	"role.editor":      {"Editor", "Éditeur", "Redacteur"},
	"role.viewer":      {"Viewer", "Lecteur", "Lezer"},

	"signin.title":     {"Sign in", "Connexion", "Aanmelden"},
	"signin.intro":     {"Sign in with the email address and password of your account.", "Connectez-vous avec l'adresse e-mail et le mot de passe de votre compte.", "Meld je aan met het e-mailadres en wachtwoord van je account."},
	"signin.email":     {"Email address", "Adresse e-mail", "E-mailadres"},
	"signin.password":  {"Password", "Mot de passe", "Wachtwoord"},
	"signin.submit":    {"Sign in", "Se connecter", "Aanmelden"},
	"signin.invalid":   {"The email address or the password is wrong.", "L'adresse e-mail ou le mot de passe est incorrect.", "Het e-mailadres of het wachtwoord is onjuist."},
	"signin.throttled": {"Too many failed attempts. Wait %d seconds, then try again.", "Trop de tentatives échouées. Attendez %d secondes, puis réessayez.", "Te veel mislukte pogingen. Wacht %d seconden en probeer het dan opnieuw."},

	"password.title":           {"Choose your password", "Choisissez votre mot de passe", "Kies je wachtwoord"},
	"password.intro":           {"You signed in with a one-time password. Choose your own to go on: at least 10 characters.", "Vous vous êtes connecté avec un mot de passe à usage unique. Choisissez le vôtre pour continuer : au moins 10 caractères.", "Je hebt je aangemeld met een eenmalig wachtwoord. Kies je eigen wachtwoord om verder te gaan: minstens 10 tekens."},
	"password.intro2":          {"Choose a new password: at least 10 characters. Your other sessions will be signed out.", "Choisissez un nouveau mot de passe : au moins 10 caractères. Vos autres sessions seront fermées.", "Kies een nieuw wachtwoord: minstens 10 tekens. Je andere sessies worden afgemeld."},
	"password.new":             {"New password", "Nouveau mot de passe", "Nieuw wachtwoord"},
	"password.again":           {"New password again", "Répétez le nouveau mot de passe", "Nieuw wachtwoord opnieuw"},
	"password.submit":          {"Save password", "Enregistrer le mot de passe", "Wachtwoord opslaan"},
	"password.mismatch":        {"The two passwords differ.", "Les deux mots de passe diffèrent.", "De twee wachtwoorden verschillen."},
	"field.password_too_short": {"Too short: use at least 10 characters.", "Trop court : au moins 10 caractères.", "Te kort: gebruik minstens 10 tekens."},
	"field.password_too_long":  {"Too long: use at most 72 bytes.", "Trop long : 72 octets au maximum.", "Te lang: hoogstens 72 bytes."},
	"field.invalid_phone":      {"This is not a phone number: use digits, spaces and + ( ) . / - only.", "Ce n'est pas un numéro de téléphone : chiffres, espaces et + ( ) . / - seulement.", "Dit is geen telefoonnummer: enkel cijfers, spaties en + ( ) . / -."},
	"field.duplicate":          {"Another client already has this value.", "Un autre client a déjà cette valeur.", "Een andere klant heeft deze waarde al."},

	"flash.signed_out":      {"You are signed out.", "Vous êtes déconnecté.", "Je bent afgemeld."},
	"flash.password_set":    {"Your password is saved.", "Votre mot de passe est enregistré.", "Je wachtwoord is opgeslagen."},
	"flash.client_added":    {"The client was added.", "Le client a été ajouté.", "De klant is toegevoegd."},
	"flash.client_saved":    {"Your changes were saved.", "Vos modifications ont été enregistrées.", "Je wijzigingen zijn opgeslagen."},
	"flash.client_deleted":  {"The client was deleted. You can restore it from its page.", "Le client a été supprimé. Vous pouvez le restaurer depuis sa page.", "De klant is verwijderd. Je kunt hem herstellen vanaf zijn pagina."},
	"flash.client_restored": {"The client was restored.", "Le client a été restauré.", "De klant is hersteld."},

	"clients.title":            {"Clients", "Clients", "Klanten"},
	"clients.sub":              {"Everyone in the registry, however they arrived.", "Toutes les personnes du registre, quelle que soit leur origine.", "Iedereen in het register, hoe ze ook binnenkwamen."},
	"clients.add":              {"Add a client", "Ajouter un client", "Klant toevoegen"},
	"clients.search":           {"Search", "Rechercher", "Zoeken"},
	"clients.search_hint":      {"Name, email, phone, VAT number…", "Nom, e-mail, téléphone, n° de TVA…", "Naam, e-mail, telefoon, btw-nummer…"},
	"clients.status":           {"Status", "Statut", "Status"},
	"clients.list":             {"List", "Liste", "Lijst"},
	"clients.any_list":         {"Any list", "Toutes les listes", "Alle lijsten"},
	"clients.source":           {"Source", "Source", "Bron"},
	"clients.any_source":       {"Any source", "Toutes les sources", "Alle bronnen"},
	"clients.apply":            {"Apply", "Appliquer", "Toepassen"},
	"clients.col.name":         {"Name", "Nom", "Naam"},
	"clients.col.email":        {"Email", "E-mail", "E-mail"},
	"clients.col.phone":        {"Phone", "Téléphone", "Telefoon"},
	"clients.col.city":         {"City", "Localité", "Gemeente"},
	"clients.col.lists":        {"Lists", "Listes", "Lijsten"},
	"clients.col.updated":      {"Updated", "Modifié", "Gewijzigd"},
	"clients.none":             {"No clients yet. Add one, or import a file.", "Pas encore de clients. Ajoutez-en un ou importez un fichier.", "Nog geen klanten. Voeg er een toe of importeer een bestand."},
	"clients.none_match":       {"No client matches these filters.", "Aucun client ne correspond à ces filtres.", "Geen klant voldoet aan deze filters."},
	"clients.pages":            {"Pages", "Pages", "Pagina's"},
	"clients.first_page":       {"First page", "Première page", "Eerste pagina"},
	"clients.next_page":        {"Next page", "Page suivante", "Volgende pagina"},
	"status.active":            {"Active", "Actifs", "Actief"},
	"status.deleted":           {"Deleted", "Supprimé", "Verwijderd"},
	"status.all":               {"All", "Tous", "Alle"},
	"source.adminpulse":        {"AdminPulse", "AdminPulse", "AdminPulse"},
	"source.admin-is-consult":  {"Admin IS | Consult", "Admin IS | Consult", "Admin IS | Consult"},
	"source.erp":               {"ERP", "ERP", "ERP"},
	"client.removed_at_source": {"Removed at source", "Supprimé à la source", "Verwijderd bij de bron"},

	"client.add_title":            {"Add a client", "Ajouter un client", "Klant toevoegen"},
	"client.edit_title":           {"Edit the client", "Modifier le client", "Klant bewerken"},
	"client.edit":                 {"Edit", "Modifier", "Bewerken"},
	"client.delete":               {"Delete", "Supprimer", "Verwijderen"},
	"client.restore":              {"Restore", "Restaurer", "Herstellen"},
	"client.delete_title":         {"Delete this client?", "Supprimer ce client ?", "Deze klant verwijderen?"},
	"client.delete_confirm":       {"%s will leave the client list and free their email address. The history is kept, and you can restore the client later.", "%s quittera la liste des clients et son adresse e-mail sera libérée. L'historique est conservé et vous pourrez restaurer le client plus tard.", "%s verdwijnt uit de klantenlijst en het e-mailadres komt vrij. De geschiedenis blijft bewaard en je kunt de klant later herstellen."},
	"client.delete_reason":        {"Reason (optional)", "Motif (facultatif)", "Reden (optioneel)"},
	"client.deleted_notice":       {"This client was deleted on %s. Restore it to edit it again.", "Ce client a été supprimé le %s. Restaurez-le pour le modifier à nouveau.", "Deze klant werd verwijderd op %s. Herstel hem om hem opnieuw te bewerken."},
	"client.removed_notice":       {"Removed at source: %s no longer has this client. It stays here until you delete it.", "Supprimé à la source : %s n'a plus ce client. Il reste ici jusqu'à ce que vous le supprimiez.", "Verwijderd bij de bron: %s heeft deze klant niet meer. Hij blijft hier tot je hem verwijdert."},
	"client.details":              {"Details", "Coordonnées", "Gegevens"},
	"client.who":                  {"Who", "Qui", "Wie"},
	"client.address":              {"Address", "Adresse", "Adres"},
	"client.contacts":             {"Contact persons", "Personnes de contact", "Contactpersonen"},
	"client.no_contacts":          {"No contact persons.", "Aucune personne de contact.", "Geen contactpersonen."},
	"client.custom_fields":        {"Custom fields", "Champs personnalisés", "Eigen velden"},
	"client.no_custom_fields":     {"No custom field filled in.", "Aucun champ personnalisé rempli.", "Geen eigen veld ingevuld."},
	"client.status":               {"Status", "Statut", "Status"},
	"client.app_access":           {"App access", "Accès à l'app", "Toegang tot de app"},
	"client.manual":               {"Added by hand", "Ajouté à la main", "Met de hand toegevoegd"},
	"client.created":              {"Created", "Créé", "Aangemaakt"},
	"client.timeline":             {"Timeline", "Historique", "Tijdlijn"},
	"client.conflict":             {"Someone else changed this client after you opened it. See what changed below; your values are still in the form. Save again to apply them over those changes.", "Quelqu'un d'autre a modifié ce client après que vous l'avez ouvert. Voyez ci-dessous ce qui a changé ; vos valeurs sont toujours dans le formulaire. Enregistrez à nouveau pour les appliquer par-dessus.", "Iemand anders heeft deze klant gewijzigd nadat je hem opende. Hieronder zie je wat er veranderde; jouw waarden staan nog in het formulier. Sla opnieuw op om ze eroverheen toe te passen."},
	"client.conflict_what":        {"Changed meanwhile", "Modifié entre-temps", "Intussen gewijzigd"},
	"client.conflict_hint":        {"Compare with your values below before saving again.", "Comparez avec vos valeurs ci-dessous avant d'enregistrer à nouveau.", "Vergelijk met je waarden hieronder voor je opnieuw opslaat."},
	"client.managed_by_source":    {"This client is managed by %s: change or delete it there. An administrator can detach it to manage it here.", "Ce client est géré par %s : modifiez-le ou supprimez-le là-bas. Un administrateur peut le détacher pour le gérer ici.", "Deze klant wordt beheerd door %s: wijzig of verwijder hem daar. Een beheerder kan hem loskoppelen om hem hier te beheren."},
	"client.is_deleted":           {"This client is deleted; restore it first.", "Ce client est supprimé ; restaurez-le d'abord.", "Deze klant is verwijderd; herstel hem eerst."},
	"kind.person":                 {"Person", "Personne", "Persoon"},
	"kind.company":                {"Company", "Entreprise", "Bedrijf"},
	"status.one_active":           {"Active", "Actif", "Actief"},
	"status.erased":               {"Erased", "Effacé", "Gewist"},
	"access.not_invited":          {"Not invited", "Pas invité", "Niet uitgenodigd"},
	"access.invited":              {"Invited", "Invité", "Uitgenodigd"},
	"access.registered":           {"Registered", "Inscrit", "Geregistreerd"},
	"access.pending_validation":   {"Waiting for validation", "En attente de validation", "Wacht op bevestiging"},
	"access.validated":            {"Validated", "Validé", "Bevestigd"},
	"form.required":               {"required", "obligatoire", "verplicht"},
	"form.save":                   {"Save changes", "Enregistrer", "Wijzigingen opslaan"},
	"form.cancel":                 {"Cancel", "Annuler", "Annuleren"},
	"form.back_to_client":         {"Back to the client", "Retour au client", "Terug naar de klant"},
	"form.fix_fields":             {"Some fields need your attention: see the messages next to them.", "Certains champs demandent votre attention : voyez les messages à côté.", "Sommige velden vragen je aandacht: zie de berichten ernaast."},
	"label.kind":                  {"Kind", "Type", "Soort"},
	"label.first_name":            {"First name", "Prénom", "Voornaam"},
	"label.last_name":             {"Last name", "Nom", "Achternaam"},
	"label.company_name":          {"Company name", "Nom de l'entreprise", "Bedrijfsnaam"},
	"label.display_name":          {"Display name", "Nom affiché", "Weergavenaam"},
	"label.email":                 {"Email", "E-mail", "E-mail"},
	"label.phone":                 {"Phone", "Téléphone", "Telefoon"},
	"label.language":              {"Language", "Langue", "Taal"},
	"label.vat_number":            {"VAT or enterprise number", "N° de TVA ou d'entreprise", "Btw- of ondernemingsnummer"},
	"label.street":                {"Street", "Rue", "Straat"},
	"label.house_number":          {"Number", "Numéro", "Nummer"},
	"label.box":                   {"Box", "Boîte", "Bus"},
	"label.postal_code":           {"Postal code", "Code postal", "Postcode"},
	"label.city":                  {"City", "Localité", "Gemeente"},
	"label.country":               {"Country", "Pays", "Land"},
	"label.notes":                 {"Notes", "Remarques", "Opmerkingen"},
	"label.role":                  {"Role", "Fonction", "Functie"},
	"label.status":                {"Status", "Statut", "Status"},
	"hint.language":               {"Two letters, e.g. fr, nl, en", "Deux lettres, p. ex. fr, nl, en", "Twee letters, bv. fr, nl, en"},
	"hint.country":                {"Two letters, e.g. BE, NL, FR", "Deux lettres, p. ex. BE, NL, FR", "Twee letters, bv. BE, NL, FR"},
	"hint.vat_number":             {"e.g. BE0123.456.749", "p. ex. BE0123.456.749", "bv. BE0123.456.749"},
	"hint.options":                {"One of: %s", "Parmi : %s", "Een van: %s"},
	"timeline.api":                {"API token", "Jeton d'API", "API-token"},
	"timeline.former_user":        {"a former user", "un ancien utilisateur", "een gewezen gebruiker"},
	"timeline.system":             {"the system", "le système", "het systeem"},
	"timeline.via_import":         {"import %s", "import %s", "import %s"},
	"timeline.via_undo":           {"undo of import %s", "annulation de l'import %s", "ongedaan maken van import %s"},
	"timeline.via_sync":           {"sync", "synchronisation", "synchronisatie"},
	"timeline.row":                {"row %d", "ligne %d", "rij %d"},
	"timeline.list":               {"List %s", "Liste %s", "Lijst %s"},
	"timeline.contact":            {"Contact person: %s", "Personne de contact : %s", "Contactpersoon: %s"},
	"event.ClientRegistered":      {"Client added", "Client ajouté", "Klant toegevoegd"},
	"event.ClientDetailsChanged":  {"Details changed", "Coordonnées modifiées", "Gegevens gewijzigd"},
	"event.ClientDeleted":         {"Deleted", "Supprimé", "Verwijderd"},
	"event.ClientRestored":        {"Restored", "Restauré", "Hersteld"},
	"event.ClientErased":          {"Personal data erased", "Données personnelles effacées", "Persoonsgegevens gewist"},
	"event.ContactPersonAdded":    {"Contact person added", "Personne de contact ajoutée", "Contactpersoon toegevoegd"},
	"event.ContactPersonChanged":  {"Contact person changed", "Personne de contact modifiée", "Contactpersoon gewijzigd"},
	"event.ContactPersonRemoved":  {"Contact person removed", "Personne de contact retirée", "Contactpersoon verwijderd"},
	"event.ClientAddedToList":     {"Added to a list", "Ajouté à une liste", "Aan een lijst toegevoegd"},
	"event.ClientRemovedFromList": {"Removed from a list", "Retiré d'une liste", "Uit een lijst gehaald"},
	"event.InvitationSent":        {"Invited to the app", "Invité dans l'app", "Uitgenodigd voor de app"},
	"event.AppUserRegistered":     {"Registered in the app", "Inscrit dans l'app", "Geregistreerd in de app"},
	"event.AppAccessValidated":    {"App access validated", "Accès à l'app validé", "Toegang tot de app bevestigd"},
	"flash.changed_meanwhile":     {"Someone else changed this client meanwhile; nothing was done. Look at it again, then retry.", "Quelqu'un d'autre a modifié ce client entre-temps ; rien n'a été fait. Regardez-le à nouveau, puis réessayez.", "Iemand anders heeft deze klant intussen gewijzigd; er is niets gebeurd. Bekijk hem opnieuw en probeer het dan nog eens."},
	"flash.managed_by_source":     {"This client is managed by its source: delete it there. An administrator can detach it to manage it here.", "Ce client est géré par sa source : supprimez-le là-bas. Un administrateur peut le détacher pour le gérer ici.", "Deze klant wordt beheerd door zijn bron: verwijder hem daar. Een beheerder kan hem loskoppelen om hem hier te beheren."},
	"flash.restore_taken":         {"The client could not be restored: another client took its email address meanwhile.", "Le client n'a pas pu être restauré : un autre client a pris son adresse e-mail entre-temps.", "De klant kon niet hersteld worden: een andere klant nam intussen zijn e-mailadres."},

	"error.title":      {"Something went wrong", "Un problème est survenu", "Er ging iets mis"},
	"error.not_found":  {"This page does not exist, or what it showed was removed.", "Cette page n'existe pas, ou ce qu'elle montrait a été supprimé.", "Deze pagina bestaat niet, of wat ze toonde is verwijderd."},
	"error.internal":   {"Something went wrong on our side. Try again in a moment.", "Un problème est survenu de notre côté. Réessayez dans un instant.", "Er ging iets mis bij ons. Probeer het zo dadelijk opnieuw."},
	"error.csrf":       {"This form expired. Go back, reload the page and send it again.", "Ce formulaire a expiré. Revenez en arrière, rechargez la page et envoyez-le à nouveau.", "Dit formulier is verlopen. Ga terug, herlaad de pagina en verstuur het opnieuw."},
	"error.forbidden":  {"Your role does not allow this. Ask an administrator.", "Votre rôle ne le permet pas. Demandez à un administrateur.", "Je rol laat dit niet toe. Vraag het aan een beheerder."},
	"error.bad_cursor": {"This page link is no longer valid; start from the first page.", "Ce lien de page n'est plus valable ; repartez de la première page.", "Deze paginalink is niet meer geldig; begin bij de eerste pagina."},
	"error.back":       {"Back to the clients", "Retour aux clients", "Terug naar de klanten"},
}
