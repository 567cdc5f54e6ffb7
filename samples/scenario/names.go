package scenario

// givenNames and surnames seed the benign user population. They are deliberately varied so
// that generated account names look like a real company directory.
var givenNames = []string{
	"Aaron", "Abigail", "Adam", "Aisha", "Alejandro", "Alice", "Amir", "Ana", "Andrew", "Anja",
	"Anna", "Arjun", "Ben", "Bianca", "Brian", "Camille", "Carlos", "Chen", "Chloe", "Daniel",
	"David", "Diego", "Elena", "Emily", "Emma", "Eric", "Fatima", "Felix", "Fiona", "Gabriel",
	"Grace", "Hannah", "Hiro", "Ines", "Isaac", "Ivan", "Jack", "James", "Jana", "Jennifer",
	"John", "Jonas", "Julia", "Karen", "Kenji", "Laura", "Leon", "Lina", "Lucas", "Maria",
	"Mark", "Martin", "Mei", "Michael", "Mohammed", "Nadia", "Noah", "Nora", "Olivia", "Omar",
	"Paul", "Peter", "Priya", "Rachel", "Rafael", "Ravi", "Robert", "Sara", "Sofia", "Stefan",
	"Susan", "Thomas", "Tom", "Valentina", "Victor", "Wei", "William", "Yara", "Yusuf", "Zoe",
}

var surnames = []string{
	"Adams", "Ahmed", "Alvarez", "Andersen", "Baker", "Becker", "Bennett", "Brown", "Castro", "Chen",
	"Clark", "Cohen", "Collins", "Costa", "Davies", "Dubois", "Edwards", "Evans", "Fischer", "Garcia",
	"Gonzalez", "Green", "Gupta", "Hall", "Hansen", "Harris", "Hoffmann", "Hughes", "Ito", "Jansen",
	"Johnson", "Jones", "Kaur", "Kim", "Klein", "Kowalski", "Larsen", "Lee", "Lopez", "Martin",
	"Meyer", "Miller", "Moreau", "Morris", "Nakamura", "Nguyen", "Novak", "OBrien", "Okafor", "Patel",
	"Perez", "Petrov", "Quinn", "Rossi", "Russo", "Sato", "Schmidt", "Schulz", "Shah", "Silva",
	"Singh", "Smith", "Suzuki", "Taylor", "Thomas", "Turner", "Wagner", "Walker", "Wang", "Weber",
	"White", "Williams", "Wilson", "Wong", "Wright", "Yilmaz", "Young", "Zhang", "Zimmermann", "Ward",
}

// serviceSpec describes one service account: its name, the host its service runs on and its
// service principal name.
type serviceSpec struct {
	name, host, spn string
}

// services are the SPN-bearing service accounts of CORP. The SPN host parts are completed
// with the DNS domain at build time.
var services = []serviceSpec{
	{"svc-sql", "sql01", "MSSQLSvc/sql01.%s:1433"},
	{"svc-sqlrpt", "sql02", "MSSQLSvc/sql02.%s:1433"},
	{"svc-sqldw", "dw01", "MSSQLSvc/dw01.%s:1433"},
	{"svc-sccm", "sccm01", "MSSQLSvc/sccm01.%s:1433"},
	{"svc-web", "web01", "HTTP/web01.%s"},
	{"svc-intranet", "intranet", "HTTP/intranet.%s"},
	{"svc-sharepoint", "sp01", "HTTP/sharepoint.%s"},
	{"svc-crm", "crm01", "HTTP/crm.%s"},
	{"svc-jira", "jira01", "HTTP/jira.%s"},
	{"svc-wiki", "wiki01", "HTTP/wiki.%s"},
	{"svc-erp", "erp01", "HTTP/erp.%s"},
	{"svc-hr", "hr01", "HTTP/hr.%s"},
	{"svc-jenkins", "ci01", "HTTP/jenkins.%s"},
	{"svc-git", "git01", "HTTP/git.%s"},
	{"svc-tableau", "bi01", "HTTP/tableau.%s"},
	{"svc-monitor", "mon01", "HTTP/monitor.%s"},
	{"svc-backup", "bkp01", "HTTP/bkp01.%s:9443"},
	{"svc-adfs", "adfs01", "HTTP/sts.%s"},
	{"svc-oracle", "ora01", "oracle/ora01.%s:1521"},
	{"svc-sap", "sap01", "SAP/sap01.%s"},
	{"svc-ftp", "ftp01", "ftp/ftp01.%s"},
	{"svc-nfs", "nas01", "nfs/nas01.%s"},
	{"svc-print", "print01", "HTTP/print01.%s"},
	// Legacy applications that only speak RC4: every ticket for them is 0x17.
	{"svc-timesheet", "app07", "HTTP/timesheet.%s"},
	{"svc-labelprint", "app09", "MSSQLSvc/app09.%s:1433"},
	// Dormant legacy account with "do not require Kerberos pre-authentication" set.
	{"svc-legacyapp", "app03", "HTTP/oldcrm.%s"},
}

// unknownNames are the guesses an attacker sprays at the KDC during reconnaissance.
var unknownNames = []string{
	"admin", "administrator1", "test", "backup", "sqladmin", "guest1", "scanner", "helpdesk",
	"itadmin", "sa", "oracle", "ftpuser", "support", "webadmin", "svc-admin", "temp", "user1",
	"root", "operator", "dbadmin",
}
