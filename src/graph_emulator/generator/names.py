"""Names and places the generated people, groups and apps are made of.

All invented. Phone numbers use the fictional 555 ranges; IP ranges in named locations
use the documentation blocks of RFC 5737 and RFC 3849.
"""

from __future__ import annotations

from typing import NamedTuple

FIRST_NAMES = (
    "Adele", "Alex", "Allan", "Amara", "Anders", "Aisha", "Ben", "Bianca", "Brian", "Camille",
    "Carlos", "Chen", "Chloe", "Christie", "Daniel", "Debra", "Diego", "Elena", "Emily",
    "Emma", "Enrico", "Ethan", "Fatima", "Felix", "Fiona", "Gabriel", "Grace", "Grady",
    "Hannah", "Haruto", "Henrietta", "Hugo", "Ines", "Isaac", "Isaiah", "Jakob", "James",
    "Jana", "Javier", "Johanna", "Joni", "Jordan", "Julia", "Kai", "Karin", "Kenji", "Lara",
    "Lee", "Leon", "Lidia", "Linnea", "Lucas", "Lynne", "Maja", "Marco", "Maria", "Mateo",
    "Megan", "Mei", "Miriam", "Mohammed", "Nadia", "Nestor", "Nia", "Nils", "Noah", "Olga",
    "Oliver", "Omar", "Patti", "Pedro", "Pradeep", "Priya", "Rafael", "Raul", "Rebecca",
    "Ren", "Rosa", "Ruth", "Sakura", "Samir", "Sara", "Sebastian", "Sofia", "Stefan", "Tariq",
    "Thomas", "Tomas", "Ulrike", "Valentina", "Victor", "Wei", "Yara", "Yuki", "Zara", "Zoe",
)

LAST_NAMES = (
    "Abbott", "Andersson", "Bauer", "Becker", "Bergstrom", "Bianchi", "Brooks", "Campbell",
    "Carter", "Chen", "Costa", "Dahl", "Dubois", "Edwards", "Eriksson", "Fischer", "Fontaine",
    "Garcia", "Gonzalez", "Gruber", "Hansen", "Hartmann", "Hayes", "Herrera", "Hoffmann",
    "Ito", "Jensen", "Johansson", "Kaur", "Keller", "Khan", "Kim", "Klein", "Kowalski",
    "Lambert", "Larsen", "Laurent", "Lindqvist", "Lopez", "Martin", "Meyer", "Moreau",
    "Muller", "Murphy", "Nakamura", "Nguyen", "Nielsen", "Novak", "Olsen", "Ortiz", "Park",
    "Patel", "Perez", "Petrov", "Popescu", "Quinn", "Ramirez", "Rossi", "Russo", "Sanchez",
    "Santos", "Sato", "Schmidt", "Schneider", "Schulz", "Silva", "Singh", "Sorensen",
    "Suzuki", "Svensson", "Takahashi", "Tanaka", "Taylor", "Thompson", "Torres", "Wagner",
    "Walker", "Wang", "Weber", "Wilber", "Wolf", "Wright", "Yamamoto", "Young", "Zhang",
)


class Department(NamedTuple):
    """A department, its share of the staff, and the titles of its individual contributors."""

    name: str
    weight: int
    titles: tuple[str, ...]
    code: str


DEPARTMENTS = (
    Department("Sales", 18, ("Account Executive", "Sales Representative",
                             "Inside Sales Specialist", "Sales Engineer"), "SLS"),
    Department("Engineering", 20, ("Software Engineer", "Senior Software Engineer",
                                   "Site Reliability Engineer", "QA Engineer"), "ENG"),
    Department("Customer Support", 12, ("Support Specialist", "Support Engineer",
                                        "Customer Success Manager"), "SUP"),
    Department("Operations", 12, ("Operations Analyst", "Logistics Coordinator",
                                  "Facilities Specialist"), "OPS"),
    Department("Marketing", 8, ("Marketing Specialist", "Content Strategist",
                                "Product Marketing Manager"), "MKT"),
    Department("Research & Development", 8, ("Research Scientist", "Product Designer",
                                             "Data Scientist"), "RND"),
    Department("Finance", 6, ("Financial Analyst", "Accountant", "Controller"), "FIN"),
    Department("IT", 6, ("Systems Administrator", "Service Desk Analyst",
                         "Identity Engineer", "Network Engineer"), "IT"),
    Department("Human Resources", 4, ("HR Business Partner", "Recruiter",
                                      "Payroll Specialist"), "HR"),
    Department("Procurement", 3, ("Buyer", "Procurement Specialist"), "PRC"),
    Department("Legal", 2, ("Legal Counsel", "Paralegal", "Compliance Officer"), "LGL"),
)
IT_DEPARTMENT = 7
"""Index of IT in :data:`DEPARTMENTS`; its people administer the tenant."""
EXECUTIVE = "Executive"


class Office(NamedTuple):
    """A site people work at."""

    city: str
    state: str | None
    country: str
    code: str
    """ISO 3166 alpha-2, also the usage location."""
    street: str
    postal_code: str
    phone: str
    """Country and area prefix of fictional numbers."""
    language: str
    weight: int


OFFICES = (
    Office("Redmond", "WA", "United States", "US", "1 Contoso Way", "98052", "+1 425 555",
           "en-US", 40),
    Office("Munich", "BY", "Germany", "DE", "Marienplatz 8", "80331", "+49 89 5550",
           "de-DE", 14),
    Office("London", None, "United Kingdom", "GB", "22 Fenchurch Street", "EC3M 3BY",
           "+44 20 7946", "en-GB", 12),
    Office("Stockholm", None, "Sweden", "SE", "Kungsgatan 44", "111 35", "+46 8 555",
           "sv-SE", 8),
    Office("Paris", None, "France", "FR", "15 Rue de la Paix", "75002", "+33 1 5555",
           "fr-FR", 8),
    Office("Toronto", "ON", "Canada", "CA", "100 King Street West", "M5X 1A9", "+1 416 555",
           "en-CA", 8),
    Office("Tokyo", None, "Japan", "JP", "1-1 Marunouchi", "100-0005", "+81 3 5555",
           "ja-JP", 5),
    Office("Sydney", "NSW", "Australia", "AU", "200 George Street", "2000", "+61 2 5550",
           "en-AU", 5),
)

GUEST_DOMAINS = (
    "fabrikam.com", "northwindtraders.com", "adventure-works.com", "wingtiptoys.com",
    "tailspintoys.com", "litwareinc.com", "woodgrovebank.com", "gmail.com", "outlook.com",
)
GUEST_COMPANIES = {
    "fabrikam.com": "Fabrikam", "northwindtraders.com": "Northwind Traders",
    "adventure-works.com": "Adventure Works", "wingtiptoys.com": "Wingtip Toys",
    "tailspintoys.com": "Tailspin Toys", "litwareinc.com": "Litware",
    "woodgrovebank.com": "Woodgrove Bank",
}

GROUP_TOPICS = (
    "Project Phoenix", "Quarterly Planning", "Product Launch", "Data Platform", "Cloud Migration",
    "Security Champions", "Onboarding", "Vendor Management", "Customer Advisory",
    "Innovation Lab", "Sustainability", "Budget Review", "Partner Program", "Mobile App",
    "Field Enablement", "Analytics", "Compliance", "Release Train", "Hackathon",
    "Employee Resource Group", "Social Club", "Mentoring", "Training", "Leadership Forum",
)
SECURITY_PURPOSES = (
    "File Share Access", "VPN Users", "Printer Access", "CRM Users", "ERP Users",
    "License Assignment", "Intune Pilot", "Remote Desktop Users", "Wiki Editors",
    "Build Agents", "Jira Users", "Confluence Users", "Finance Reports", "SharePoint Owners",
    "Travel Approvers", "Payroll Access", "Lab Devices", "MFA Pilot", "App Testers",
)
APP_NAMES = (
    "Expense Portal", "HR Self Service", "Inventory Tracker", "Contract Manager",
    "Field Service App", "Sales Dashboard", "Backup Automation", "Directory Sync Monitor",
    "Ticketing Connector", "Payroll Integration", "Document Signing", "Learning Portal",
    "Travel Booking", "Time Tracking", "Customer Feedback", "Asset Registry",
    "Build Pipeline", "Reporting Service", "Chatbot", "Visitor Check-in",
)
APP_ROLE_SETS = (
    ("Reader", "Contributor", "Administrator"),
    ("Viewer", "Approver"),
    ("User", "Manager", "Auditor"),
)
LAPTOPS = (("Dell Inc.", "Latitude 7440"), ("LENOVO", "ThinkPad T14 Gen 4"),
           ("HP", "EliteBook 840 G10"), ("Microsoft Corporation", "Surface Laptop 5"))
WINDOWS_VERSIONS = ("10.0.19045.4291", "10.0.22631.3527", "10.0.22631.4602", "10.0.26100.2605")
PHONES = (("Apple", "iPhone 14", "IPhone", "17.5.1"), ("Apple", "iPhone 15 Pro", "IPhone", "18.1"),
          ("samsung", "SM-S918B", "Android", "14.0"), ("Google", "Pixel 8", "Android", "15.0"))
MACS = (("Apple", "MacBookPro18,3", "MacMDM", "14.6.1"), ("Apple", "Mac15,12", "MacMDM", "15.1"))
