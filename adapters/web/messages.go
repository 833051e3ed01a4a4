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

	"error.title":      {"Something went wrong", "Un problème est survenu", "Er ging iets mis"},
	"error.not_found":  {"This page does not exist, or what it showed was removed.", "Cette page n'existe pas, ou ce qu'elle montrait a été supprimé.", "Deze pagina bestaat niet, of wat ze toonde is verwijderd."},
	"error.internal":   {"Something went wrong on our side. Try again in a moment.", "Un problème est survenu de notre côté. Réessayez dans un instant.", "Er ging iets mis bij ons. Probeer het zo dadelijk opnieuw."},
	"error.csrf":       {"This form expired. Go back, reload the page and send it again.", "Ce formulaire a expiré. Revenez en arrière, rechargez la page et envoyez-le à nouveau.", "Dit formulier is verlopen. Ga terug, herlaad de pagina en verstuur het opnieuw."},
	"error.forbidden":  {"Your role does not allow this. Ask an administrator.", "Votre rôle ne le permet pas. Demandez à un administrateur.", "Je rol laat dit niet toe. Vraag het aan een beheerder."},
	"error.bad_cursor": {"This page link is no longer valid; start from the first page.", "Ce lien de page n'est plus valable ; repartez de la première page.", "Deze paginalink is niet meer geldig; begin bij de eerste pagina."},
	"error.back":       {"Back to the clients", "Retour aux clients", "Terug naar de klanten"},
}
