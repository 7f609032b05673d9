"""Country names and codes → ISO 3166-1 alpha-2.

Marketplaces write the destination country as an ISO-2 code (Shopify, Amazon),
an ISO-3 code, an English name (eBay "United States"), a local short form
("UK", "USA"), a French name (eBay France: "Royaume-Uni") or, in Chinese ERP
exports, a Chinese name (美国). Everything recognised becomes the ISO-2 code;
anything else is returned unchanged so the review stage can hold the order
instead of guessing.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# alpha-2, alpha-3, English short name (ISO 3166-1, officially assigned codes).
_ISO_TABLE = """\
AD AND Andorra
AE ARE United Arab Emirates
AF AFG Afghanistan
AG ATG Antigua and Barbuda
AI AIA Anguilla
AL ALB Albania
AM ARM Armenia
AO AGO Angola
AQ ATA Antarctica
AR ARG Argentina
AS ASM American Samoa
AT AUT Austria
AU AUS Australia
AW ABW Aruba
AX ALA Aland Islands
AZ AZE Azerbaijan
BA BIH Bosnia and Herzegovina
BB BRB Barbados
BD BGD Bangladesh
BE BEL Belgium
BF BFA Burkina Faso
BG BGR Bulgaria
BH BHR Bahrain
BI BDI Burundi
BJ BEN Benin
BL BLM Saint Barthelemy
BM BMU Bermuda
BN BRN Brunei Darussalam
BO BOL Bolivia
BQ BES Bonaire, Sint Eustatius and Saba
BR BRA Brazil
BS BHS Bahamas
BT BTN Bhutan
BV BVT Bouvet Island
BW BWA Botswana
BY BLR Belarus
BZ BLZ Belize
CA CAN Canada
CC CCK Cocos (Keeling) Islands
CD COD Congo, Democratic Republic of the
CF CAF Central African Republic
CG COG Congo
CH CHE Switzerland
CI CIV Cote d'Ivoire
CK COK Cook Islands
CL CHL Chile
CM CMR Cameroon
CN CHN China
CO COL Colombia
CR CRI Costa Rica
CU CUB Cuba
CV CPV Cabo Verde
CW CUW Curacao
CX CXR Christmas Island
CY CYP Cyprus
CZ CZE Czechia
DE DEU Germany
DJ DJI Djibouti
DK DNK Denmark
DM DMA Dominica
DO DOM Dominican Republic
DZ DZA Algeria
EC ECU Ecuador
EE EST Estonia
EG EGY Egypt
EH ESH Western Sahara
ER ERI Eritrea
ES ESP Spain
ET ETH Ethiopia
FI FIN Finland
FJ FJI Fiji
FK FLK Falkland Islands (Malvinas)
FM FSM Micronesia, Federated States of
FO FRO Faroe Islands
FR FRA France
GA GAB Gabon
GB GBR United Kingdom
GD GRD Grenada
GE GEO Georgia
GF GUF French Guiana
GG GGY Guernsey
GH GHA Ghana
GI GIB Gibraltar
GL GRL Greenland
GM GMB Gambia
GN GIN Guinea
GP GLP Guadeloupe
GQ GNQ Equatorial Guinea
GR GRC Greece
GS SGS South Georgia and the South Sandwich Islands
GT GTM Guatemala
GU GUM Guam
GW GNB Guinea-Bissau
GY GUY Guyana
HK HKG Hong Kong
HM HMD Heard Island and McDonald Islands
HN HND Honduras
HR HRV Croatia
HT HTI Haiti
HU HUN Hungary
ID IDN Indonesia
IE IRL Ireland
IL ISR Israel
IM IMN Isle of Man
IN IND India
IO IOT British Indian Ocean Territory
IQ IRQ Iraq
IR IRN Iran
IS ISL Iceland
IT ITA Italy
JE JEY Jersey
JM JAM Jamaica
JO JOR Jordan
JP JPN Japan
KE KEN Kenya
KG KGZ Kyrgyzstan
KH KHM Cambodia
KI KIR Kiribati
KM COM Comoros
KN KNA Saint Kitts and Nevis
KP PRK Korea, Democratic People's Republic of
KR KOR Korea, Republic of
KW KWT Kuwait
KY CYM Cayman Islands
KZ KAZ Kazakhstan
LA LAO Lao People's Democratic Republic
LB LBN Lebanon
LC LCA Saint Lucia
LI LIE Liechtenstein
LK LKA Sri Lanka
LR LBR Liberia
LS LSO Lesotho
LT LTU Lithuania
LU LUX Luxembourg
LV LVA Latvia
LY LBY Libya
MA MAR Morocco
MC MCO Monaco
MD MDA Moldova
ME MNE Montenegro
MF MAF Saint Martin (French part)
MG MDG Madagascar
MH MHL Marshall Islands
MK MKD North Macedonia
ML MLI Mali
MM MMR Myanmar
MN MNG Mongolia
MO MAC Macao
MP MNP Northern Mariana Islands
MQ MTQ Martinique
MR MRT Mauritania
MS MSR Montserrat
MT MLT Malta
MU MUS Mauritius
MV MDV Maldives
MW MWI Malawi
MX MEX Mexico
MY MYS Malaysia
MZ MOZ Mozambique
NA NAM Namibia
NC NCL New Caledonia
NE NER Niger
NF NFK Norfolk Island
NG NGA Nigeria
NI NIC Nicaragua
NL NLD Netherlands
NO NOR Norway
NP NPL Nepal
NR NRU Nauru
NU NIU Niue
NZ NZL New Zealand
OM OMN Oman
PA PAN Panama
PE PER Peru
PF PYF French Polynesia
PG PNG Papua New Guinea
PH PHL Philippines
PK PAK Pakistan
PL POL Poland
PM SPM Saint Pierre and Miquelon
PN PCN Pitcairn
PR PRI Puerto Rico
PS PSE Palestine, State of
PT PRT Portugal
PW PLW Palau
PY PRY Paraguay
QA QAT Qatar
RE REU Reunion
RO ROU Romania
RS SRB Serbia
RU RUS Russian Federation
RW RWA Rwanda
SA SAU Saudi Arabia
SB SLB Solomon Islands
SC SYC Seychelles
SD SDN Sudan
SE SWE Sweden
SG SGP Singapore
SH SHN Saint Helena, Ascension and Tristan da Cunha
SI SVN Slovenia
SJ SJM Svalbard and Jan Mayen
SK SVK Slovakia
SL SLE Sierra Leone
SM SMR San Marino
SN SEN Senegal
SO SOM Somalia
SR SUR Suriname
SS SSD South Sudan
ST STP Sao Tome and Principe
SV SLV El Salvador
SX SXM Sint Maarten (Dutch part)
SY SYR Syrian Arab Republic
SZ SWZ Eswatini
TC TCA Turks and Caicos Islands
TD TCD Chad
TF ATF French Southern Territories
TG TGO Togo
TH THA Thailand
TJ TJK Tajikistan
TK TKL Tokelau
TL TLS Timor-Leste
TM TKM Turkmenistan
TN TUN Tunisia
TO TON Tonga
TR TUR Turkiye
TT TTO Trinidad and Tobago
TV TUV Tuvalu
TW TWN Taiwan
TZ TZA Tanzania
UA UKR Ukraine
UG UGA Uganda
UM UMI United States Minor Outlying Islands
US USA United States
UY URY Uruguay
UZ UZB Uzbekistan
VA VAT Holy See
VC VCT Saint Vincent and the Grenadines
VE VEN Venezuela
VG VGB Virgin Islands (British)
VI VIR Virgin Islands (U.S.)
VN VNM Viet Nam
VU VUT Vanuatu
WF WLF Wallis and Futuna
WS WSM Samoa
YE YEM Yemen
YT MYT Mayotte
ZA ZAF South Africa
ZM ZMB Zambia
ZW ZWE Zimbabwe
"""

# Other spellings seen in exports: everyday English short forms, former names,
# the constituent countries of the UK, and names with accents.
_ALIASES = {
    "United States of America": "US", "U.S.A.": "US", "U.S.": "US", "America": "US",
    "UK": "GB", "Great Britain": "GB", "Britain": "GB", "England": "GB", "Scotland": "GB",
    "Wales": "GB", "Northern Ireland": "GB", "United Kingdom of Great Britain and Northern Ireland": "GB",
    "South Korea": "KR", "Korea": "KR", "Republic of Korea": "KR", "North Korea": "KP",
    "Russia": "RU", "Vietnam": "VN", "Laos": "LA", "Syria": "SY", "Iran, Islamic Republic of": "IR",
    "Moldova, Republic of": "MD", "Bolivia, Plurinational State of": "BO",
    "Venezuela, Bolivarian Republic of": "VE", "Tanzania, United Republic of": "TZ",
    "Taiwan, Province of China": "TW", "Hong Kong SAR": "HK", "Hong Kong SAR China": "HK",
    "Macau": "MO", "Macao SAR China": "MO", "Czech Republic": "CZ", "Turkey": "TR", "Türkiye": "TR",
    "The Netherlands": "NL", "Holland": "NL", "Deutschland": "DE", "Brunei": "BN",
    "Ivory Coast": "CI", "Côte d'Ivoire": "CI", "Cape Verde": "CV", "Swaziland": "SZ",
    "Macedonia": "MK", "Burma": "MM", "Palestine": "PS", "Vatican": "VA", "Vatican City": "VA",
    "Micronesia": "FM", "UAE": "AE", "Democratic Republic of the Congo": "CD", "DR Congo": "CD",
    "Republic of the Congo": "CG", "East Timor": "TL", "Åland Islands": "AX", "Curaçao": "CW",
    "Réunion": "RE", "Saint Barthélemy": "BL", "São Tomé and Príncipe": "ST",
    "Falkland Islands": "FK", "Saint Helena": "SH", "US Virgin Islands": "VI",
    "British Virgin Islands": "VG", "Puerto Rico (US)": "PR", "Espana": "ES", "España": "ES",
    "Italia": "IT", "Brasil": "BR", "Mexico (MX)": "MX", "México": "MX", "Polska": "PL",
    "Nederland": "NL", "Österreich": "AT", "Schweiz": "CH", "Suisse": "CH", "Belgique": "BE",
    "België": "BE", "Sverige": "SE", "Norge": "NO", "Danmark": "DK", "Suomi": "FI",
}

# French names, as eBay France and French marketplaces write them (compared
# without accents, so "Etats-Unis" matches too).
_FRENCH = {
    "États-Unis": "US", "Royaume-Uni": "GB", "Allemagne": "DE", "Italie": "IT", "Espagne": "ES",
    "Pays-Bas": "NL", "Autriche": "AT", "Irlande": "IE", "Pologne": "PL", "Suède": "SE",
    "Danemark": "DK", "Norvège": "NO", "Finlande": "FI", "Grèce": "GR", "Islande": "IS",
    "République tchèque": "CZ", "Tchéquie": "CZ", "Slovaquie": "SK", "Slovénie": "SI",
    "Hongrie": "HU", "Roumanie": "RO", "Bulgarie": "BG", "Croatie": "HR", "Lituanie": "LT",
    "Lettonie": "LV", "Estonie": "EE", "Chypre": "CY", "Malte": "MT", "Andorre": "AD",
    "Saint-Marin": "SM", "Biélorussie": "BY", "Russie": "RU", "Serbie": "RS", "Turquie": "TR",
    "Australie": "AU", "Nouvelle-Zélande": "NZ", "Japon": "JP", "Chine": "CN", "Corée du Sud": "KR",
    "Inde": "IN", "Singapour": "SG", "Thaïlande": "TH", "Malaisie": "MY", "Indonésie": "ID",
    "Mexique": "MX", "Brésil": "BR", "Argentine": "AR", "Chili": "CL", "Colombie": "CO",
    "Pérou": "PE", "Afrique du Sud": "ZA", "Maroc": "MA", "Algérie": "DZ", "Tunisie": "TN",
    "Égypte": "EG", "Israël": "IL", "Arabie saoudite": "SA", "Émirats arabes unis": "AE",
    "Guyane française": "GF", "Nouvelle-Calédonie": "NC", "Polynésie française": "PF",
    "Taïwan": "TW", "Viêt Nam": "VN",
}

# Chinese names as written by Chinese ERPs and forwarders.
_CHINESE = {
    "美国": "US", "英国": "GB", "德国": "DE", "法国": "FR", "日本": "JP", "加拿大": "CA",
    "澳大利亚": "AU", "澳洲": "AU", "意大利": "IT", "西班牙": "ES", "荷兰": "NL", "比利时": "BE",
    "瑞士": "CH", "瑞典": "SE", "挪威": "NO", "丹麦": "DK", "芬兰": "FI", "波兰": "PL",
    "奥地利": "AT", "爱尔兰": "IE", "葡萄牙": "PT", "希腊": "GR", "捷克": "CZ", "匈牙利": "HU",
    "罗马尼亚": "RO", "俄罗斯": "RU", "乌克兰": "UA", "土耳其": "TR", "以色列": "IL",
    "沙特阿拉伯": "SA", "沙特": "SA", "阿联酋": "AE", "阿拉伯联合酋长国": "AE", "印度": "IN",
    "韩国": "KR", "新加坡": "SG", "马来西亚": "MY", "泰国": "TH", "越南": "VN", "菲律宾": "PH",
    "印度尼西亚": "ID", "印尼": "ID", "新西兰": "NZ", "墨西哥": "MX", "巴西": "BR", "阿根廷": "AR",
    "智利": "CL", "哥伦比亚": "CO", "秘鲁": "PE", "南非": "ZA", "埃及": "EG", "尼日利亚": "NG",
    "中国": "CN", "中国大陆": "CN", "香港": "HK", "中国香港": "HK", "澳门": "MO", "中国澳门": "MO",
    "台湾": "TW", "中国台湾": "TW", "巴基斯坦": "PK", "孟加拉国": "BD", "孟加拉": "BD",
    "卢森堡": "LU", "斯洛伐克": "SK", "斯洛文尼亚": "SI", "克罗地亚": "HR", "保加利亚": "BG",
    "立陶宛": "LT", "拉脱维亚": "LV", "爱沙尼亚": "EE", "冰岛": "IS", "马耳他": "MT",
    "塞浦路斯": "CY", "摩洛哥": "MA", "卡塔尔": "QA", "科威特": "KW", "波多黎各": "PR",
    "塞尔维亚": "RS", "白俄罗斯": "BY", "哈萨克斯坦": "KZ", "斯里兰卡": "LK", "柬埔寨": "KH",
    "缅甸": "MM", "蒙古": "MN", "尼泊尔": "NP", "朝鲜": "KP", "伊朗": "IR", "伊拉克": "IQ",
    "约旦": "JO", "黎巴嫩": "LB", "阿曼": "OM", "巴林": "BH", "肯尼亚": "KE", "阿尔及利亚": "DZ",
    "突尼斯": "TN", "厄瓜多尔": "EC", "委内瑞拉": "VE", "乌拉圭": "UY", "巴拉圭": "PY",
    "哥斯达黎加": "CR", "巴拿马": "PA", "多米尼加": "DO", "牙买加": "JM", "摩纳哥": "MC",
}


def _key(text: str) -> str:
    """Comparison key: case-folded, accents dropped, punctuation and repeated
    spaces collapsed. Accents go so that "Etats-Unis" finds "États-Unis"; CJK
    text has no combining marks and is unchanged."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[\s.,'’()\-]+", " ", unicodedata.normalize("NFC", bare)).strip()


@lru_cache(maxsize=1)
def _lookup() -> dict[str, str]:
    table: dict[str, str] = {}
    for line in _ISO_TABLE.splitlines():
        alpha2, alpha3, name = line.split(" ", 2)
        table[_key(alpha2)] = alpha2
        table[_key(alpha3)] = alpha2
        table[_key(name)] = alpha2
    for name, alpha2 in {**_ALIASES, **_FRENCH, **_CHINESE}.items():
        table[_key(name)] = alpha2
    return table


def iso2_codes() -> frozenset[str]:
    """Every officially assigned ISO 3166-1 alpha-2 code."""
    return frozenset(line.split(" ", 1)[0] for line in _ISO_TABLE.splitlines())


ISO2_CODES: frozenset[str] = iso2_codes()


def to_iso2(value: str) -> str:
    """ISO-2 code for a code or name; the stripped input itself when not recognised."""
    text = value.strip()
    if not text:
        return ""
    return _lookup().get(_key(text), text)
