"""The words organisation names are made of, in English, Russian, Kazakh and Arabic.

A sanctions list names "Korea Mining Development Trading Corporation"; a Russian authority
writes the same company "Корейская горнодобывающая торговая корпорация", a Kazakh one
"Корея тау-кен сауда корпорациясы", an Arabic one "شركة التعدين الكورية للتجارة": the name is
translated word by word, not transliterated, so no spelling comparison can meet it. Each word
form below stands for one canonical English concept token (Корейская / Корея / Korean ->
``korea``; торговая / сауда / تجارة / Trading / Trade -> ``trading``); an organisation's name is
rewritten word by word to those concept tokens before it is tokenised, on both sides alike, so
the translated name and the original share their tokens. Words that are not in the vocabulary
(the distinctive part of a name: Tangun, Ryonbong, Haramain) are left as written.

The vocabulary is written from general knowledge of the four languages (not from any list's
names). It also holds the forms lists write *transliterated* rather than translated: Arabic,
Persian and Urdu organisation words in Latin letters (Jamaat, Harakat, Jaish, Lashkar, Tehrik,
al-Qaida: "the base") and in Cyrillic (Джамаат, Харакат, Аль-Каида), and English words as
Russian and Kazakh registries write them letter for sound (Трейдинг, Шиппинг, Инжиниринг,
Интернешнл, Мэритайм). Russian and Kazakh entries ending in ``-`` are stems: they match a word made of the stem
and an inflection (Russian case and adjective endings; Kazakh plural, derivational, possessive
and case suffixes), so Корейская, Корейского and Корейскую all read ``korea`` while a proper
name that merely starts with a stem (Исламабад) does not. Arabic forms are compared after the
article and the clitics و ب ل ف ك are taken off. English forms match whole words, and their
plural in -s; a Latin word of `MIN_TYPO_LETTERS` or more one typo from a form reads as it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import lru_cache

from rapidfuzz.distance import OSA

__all__ = ["CONCEPTS", "GENERIC_ORG_WORDS", "concept", "rewrite", "vocabulary_size"]

#: Words that say an organisation is an organisation, not which one: weighted like particles.
GENERIC_ORG_WORDS = frozenset(
    """company co corporation corp incorporated inc limited ltd group holding holdings the""".split()
)

# concept | English forms | Russian | Kazakh | Arabic (forms separated by spaces; "-": a stem)
_TABLE = """
academy | academy | академи- | академия- академиясы | اكاديميه
administration | administration directorate bureau | администраци- управлени- дирекци- бюро | әкімшілі- басқарма- дирекция- бюро- | اداره مديريه ديوان
afghanistan | afghanistan afghan | афганистан- афганск- | ауғанстан- ауған- | افغانستان افغاني افغانيه
africa | africa african | африк- африканск- | африка- | افريقيا افريقي افريقيه
agency | agency | агентств- | агенттік- агенттігі | وكاله
agricultural | agriculture agricultural | сельскохозяйственн- | ауылшаруашылы- ауылшаруашылық- | زراعي زراعيه زراعه
aid | aid assistance relief | помощ- | көмек- | مساعده اغاثه عون
algeria | algeria algerian | алжир- алжирск- | алжир- | الجزائر جزائري جزائريه
and | and | и | және | و
arab | arab arabian arabic | араб- арабск- | араб- | عربي عربيه عرب
army | army armies jaish jaysh jeish lashkar | арми- джейш- джаиш- лашкар- | армия- әскер- | جيش لشکر
association | association | ассоциаци- | қауымдастық- қауымдастығы | رابطه
atomic | atomic | атомн- | атом- атомдық- | ذري ذريه
aviation | aviation air airline airlines airways | авиаци- авиационн- авиалини- воздушн- | авиация- әуе- | طيران جوي جويه
bank | bank | банк- | банк- банкі | بنك مصرف
banking | banking | банковск- | банктік- | مصرفي مصرفيه
base | base qaida qaeda qaidah | баз- каида- каеда- | база- қаида- | قاعده
battalion | battalion katiba katibat | батальон- катиба- | батальон- | كتيبه
branch | branch | филиал- отделени- | филиал- бөлімше- | فرع
brigade | brigade liwa kataib | бригад- катаиб- | бригада- | لواء الويه سرايا سريه
caliphate | caliphate khilafa khilafah khilafat | халифат- хилафат- | халифат- | خلافه خلافت
center | center centre central | центр- центральн- | орталық- орталығы | مركز مركزي مركزيه
charity | charity charitable benevolence benevolent khairiya khayriya khairiyah khayriyya | благотворительн- | қайырымдылық- | خيري خيريه
chemical | chemical chemistry | химическ- хими- | химия- химиялық- | كيماوي كيماويه كيميائي كيميائيه كيمياء
china | china chinese | кита- китайск- | қытай- | الصين صيني صينيه
citizens | citizen | граждан- | азамат- | مواطنين مواطنون
coal | coal | угол- угольн- угл- | көмір- | فحم
combat | combat combatant combatants fighting fighters fighter muqatila muqatilah | боев- боевик- мукатил- комбатант- | ұрыс- жауынгер- комбатант- | مقاتله قتال مقاتلين
commercial | commercial | коммерческ- | коммерциялық- | تجاري تجاريه
commission | commission | комисси- | комиссия- | هيئه
committee | committee lajna lajnat lajnah | комитет- | комитет- | لجنه
company | company | компани- | компания- | شركه
complex | complex | комплекс- | кешен- | مجمع
congo | congo congolese | конго конголезск- | конго | الكونغو
conquest | conquest | завоевани- | жаулап- | فتح
consultant | consultant consulting consultancy | консалтинг- консультант- консультационн- консултант- | кеңесші- консалтинг- консултант- консультант- | استشاري استشاريه استشارات
cooperation | cooperation | сотрудничеств- | ынтымақтастық- | تعاون
cooperative | cooperative | кооператив- | кооператив- | تعاونيه
corporation | corporation | корпораци- корпорейшн- корпорэйшн- | корпорация- корпорейшн- | مؤسسه
council | council majlis | совет- меджлис- маджлис- | кеңес- мәжіліс- | مجلس شورى
credit | credit | кредит- кредитн- | кредит- несие- | ائتمان
cultural | culture cultural | культур- культурн- | мәдениет- | ثقافه ثقافي
defense | defense defence | оборон- оборонн- | қорғаныс- | دفاع
democratic | democratic democracy | демократическ- демократи- | демократиялық- | ديمقراطي ديمقراطيه
department | department | департамент- | департамент- | دائره قسم
development | development | развити- девелопмент- | даму- дамыту- девелопмент- | تنميه تطوير
division | division | дивизи- | дивизия- | فرقه
dprk | dprk | кндр | кхдр | 
east | east eastern | восток- восточн- | шығыс- | شرق شرقي شرقيه
economic | economic economy | экономическ- экономик- | экономика- экономикалық- | اقتصاد اقتصادي اقتصاديه
education | education educational | образовани- образовательн- | білім- | تعليم تربيه
egypt | egypt egyptian | египет- египт- египетск- | мысыр- египет- | مصر مصري مصريه
electric | electric electrical electricity power | электрическ- электр- электроэнерги- | электр- | كهرباء كهربائي كهربائيه
electronics | electronics electronic | электрон- электроникс- | электроника- электрондық- | الكترونيات الكتروني
emigrants | emigrants emigrant immigrants muhajirin muhajireen | эмигрант- мухаджир- мухаджир- | эмигрант- | مهاجرين مهاجرون
energy | energy | энерги- энергетическ- энерджи- | энергия- энергетика- энерджи- | طاقه
engineering | engineering engineer | инженерн- инженер- инжиниринг- энжиниринг- энгинир- энджинир- инжинир- | инженер- инженерлік- инжиниринг- | هندسه هندسي مهندسين
enterprise | enterprise | предприяти- | кәсіпорын- | مشروع منشاه
equipment | equipment | оборудовани- снаряжени- эквипмент- | жабдық- | معدات
exchange | exchange | обмен- обменн- бирж- | айырбас- | صرافه
export | export exporting exporter | экспорт- экспортн- | экспорт- экспорттау- | تصدير صادرات
factory | factory factories plant works | завод- фабрик- | зауыт- фабрика- | مصنع مصانع
federation | federation | федераци- | федерация- | 
financial | financial finance | финанс- финансов- файненс- файнэнс- файнанс- | қаржы- | مالي ماليه
first | first | перв- | бірінші- | اول
force | force | сил- | күш- | قوات قوه
foreign | foreign external | иностранн- внешн- | сыртқы- шетел- | خارجي خارجيه
foundation | foundation fund | фонд- | қор- | صندوق
front | front jabhat jabha jabhah | фронт- джабхат- джабха- | майдан- | جبهه
gas | gas | газ- | газ- | غاز
general | general | генеральн- главн- дженерал- | бас- жалпы- | عام عامه
global | global | глобальн- | жаһандық- | عالمي عالميه
gold | gold | золот- | алтын- | ذهب
greater | greater great grand | велик- больш- | ұлы- | كبرى كبير
group | group groupe jamaat jamaah jamaa jemaah | групп- джамаат- груп гроуп | топ- | مجموعه جماعه جماعت
heritage | heritage | наследи- | мұра- | تراث
holding | holding | холдинг- | холдинг- | قابضه
holy | holy sacred muqaddas | свят- священн- | қасиетті- | مقدس مقدسه
humanitarian | humanitarian | гуманитарн- | гуманитарлық- | انساني انسانيه
import | import importing importer | импорт- импортн- | импорт- | استيراد
indonesia | indonesia indonesian | индонези- индонезийск- | индонезия- | اندونيسيا
industry | industry industries industrial | промышленн- индустри- индустриальн- индастриз- индастри- индастрис- | өнеркәсіп- өнеркәсібі индустрия- | صناعه صناعات صناعي صناعيه
information | information | информаци- информационн- | ақпарат- | معلومات
institute | institute institution | институт- | институт- | معهد
instrumentation | instrumentation instrument instruments | приборостроени- прибор- | аспап- | اجهزه
insurance | insurance | страховани- страхов- | сақтандыру- | تامين
international | international | международн- интернациональн- интернешнл- интернэшнл- интернейшнл- интернешенал- интернэшенел- интернешнел- | халықаралық- интернешнл- | دولي دوليه
investment | investment | инвестици- инвестиционн- инвестмент- инвестмэнт- | инвестиция- инвестициялық- | استثمار
iran | iran iranian | иран- иранск- | иран- | ايران ايراني ايرانيه
iraq | iraq iraqi | ирак- иракск- | ирак- | العراق عراق عراقي عراقيه
islamic | islamic islam islami islamiya islamiyah islamia islamiyya | ислам- исламск- | ислам- исламдық- | اسلام اسلامي اسلاميه
jihad | jihad | джихад- | жиһад- | جهاد
joint | joint | совместн- | бірлескен- | مشترك مشتركه
kazakhstan | kazakhstan kazakh | казахстанск- казахск- | қазақстан- қазақ- | كازاخستان
korea | korea korean | коре- корея корейск- | корея- корей- кәріс- | كوريا كوري كوريه
land | land ground | земл- сухопутн- наземн- | жер- | ارض بري بريه
leader | leader leadership command | руководств- командовани- | басшы- басшылық- қолбасшылық- | قياده
liberation | liberation tahrir | освобождени- освободительн- тахрир- | азаттық- азат- | تحرير
libya | libya libyan | ливи- ливийск- | ливия- | ليبيا ليبي ليبيه
limited | limited | ограниченн- лимитед- лимитэд- | шектеулі- лимитед- | محدوده
machinery | machinery machine machinebuilding | машиностроени- машиностроительн- машин- | машина- | الات ماكينات
management | management | менеджмент- | менеджмент- | 
manufacturing | manufacturing manufacture manufacturer production producing | производств- производственн- | өндіріс- өндіру- | تصنيع انتاج
marine | marine maritime sea navy naval ocean oceanic | морск- мор- флот- мэритайм- меритайм- маритайм- оушн- оушен- океан- океанск- | теңіз- флот- мұхит- океан- | بحر بحري بحريه محيط
martyrs | martyrs martyr shuhada shuhadaa | мученик- шухада- | шейіт- | شهداء شهيد
medical | medical medicine | медицинск- медицин- | медицина- медициналық- | طبي طبيه طب
metal | metal metals metallurgy metallurgical | металл- металлурги- металлургическ- | металл- металлургия- | 
military | military | военн- | әскери- | عسكري عسكريه
mining | mining mine mineral minerals | горнодобывающ- горнорудн- горн- рудн- | кен- | تعدين مناجم
ministry | ministry | министерств- | министрлік- | وزاره
missile | missile rocket | ракетн- ракет- | зымыран- | صواريخ صاروخ
money | money | денежн- денег деньги | ақша- | اموال
movement | movement harakat haraka harakah harkat tehrik tahrik tehreek | движени- харакат- техрик- тахрик- | қозғалыс- | حركه حرکت تحریک
national | national | национальн- | ұлттық- ұлт- | وطني وطنيه قومي
natural | natural | природн- естественн- | табиғи- | طبيعي طبيعيه
network | network shabaka shabakat | сет- | желі- | شبكه
new | new | нов- | жаңа- | جديد جديده
north | north northern | север- северн- | солтүстік- | شمال شمالي
nuclear | nuclear | ядерн- | ядролық- | نووي نوويه
office | office maktab | офис- мактаб- | кеңсе- | مكتب
oil | oil petroleum | нефт- нефтян- | мұнай- | نفط بترول
operation | operation | операци- | операция- | عمليات
organization | organization organisation tanzim tanzeem munazzama munazzamat | организаци- танзим- | ұйым- | منظمه تنظيم
pakistan | pakistan pakistani | пакистан- пакистанск- | пәкістан- пакистан- | باكستان باكستاني
partnership | partnership | товариществ- | серіктестік- серіктестігі | شراكه
party | party hizb hezb | парти- хизб- | партия- | حزب
peninsula | peninsula | полуостров- | түбек- | جزيره
people | people peoples popular | народ- | халық- | شعب شعبي شعبيه
port | port | порт- портов- | порт- | ميناء
province | province wilayat wilayah | провинци- вилайет- | провинция- уәлаят- | ولايه ولایت
reconnaissance | reconnaissance intelligence | разведк- разведывательн- | барлау- | استطلاع استخبارات
regiment | regiment | полк- | полк- | فوج
republic | republic | республик- | республика- | جمهوريه
research | research | исследовани- исследовательск- | зерттеу- | بحوث ابحاث
resources | resources resource | ресурс- | ресурс- | موارد
revival | revival | возрождени- | жаңғыру- | احياء
revolutionary | revolutionary revolution | революционн- революци- | революция- революциялық- | ثوري ثوريه ثوره
russia | russia russian | росси- российск- русск- | ресей- | روسيا روسي
sabotage | sabotage | диверсионн- диверси- | диверсия- | تخريب
science | science sciences scientific | наук- научн- | ғылым- ғылыми- | علوم علمي علميه
second | second | втор- | екінші- | ثاني
security | security | безопасност- | қауіпсіздік- | امن
service | service services khidamat khidmat | служб- услуг- сервис- хидамат- | қызмет- | خدمات خدمه
shipping | shipping ship ships shipbuilding shipyard navigation | судоходн- судостроительн- судостроени- суд- шиппинг- | кеме- шиппинг- | شحن سفن ملاحه
society | society jamiat jamiyat jamiya jamiyah jamiyyat | обществ- джамият- джамия- | қоғам- | جمعيه جمعیت
soldiers | soldiers soldier jund junud | солдат- воин- джунд- | сарбаз- | جنود جند
somalia | somalia somali | сомали сомалийск- | сомали- | الصومال صومالي
south | south southern | юг- южн- | оңтүстік- | جنوب جنوبي
space | space aerospace | космическ- космос- аэрокосмическ- | ғарыш- | فضاء
special | special | специальн- особ- | арнайы- | خاص خاصه
state | state dawla dawlat | государственн- государств- давла- | мемлекет- мемлекеттік- | دوله دولت
steel | steel | стальн- | болат- | صلب
strategic | strategic | стратегическ- | стратегиялық- | استراتيجي استراتيجيه
sudan | sudan sudanese | судан- суданск- | судан- | السودان سوداني
support | support supporters supporter nusra nusrat ansar | поддержк- сторонник- нусра- нусрат- ансар- | қолдау- жақтаушы- | دعم نصره انصار
syria | syria syrian | сири- сирийск- | сирия- | سوريا سوري سوريه
technical | technical technique | техническ- техник- | техникалық- | فني فنيه
technology | technology technologies technological tech | технологи- технологическ- текнолоджи- технолоджи- текнолоджис- | технология- технологиялық- | تكنولوجيا تقنيه تقنيات
tools | tool tools | инструмент- | құрал- | ادوات
trading | trading trade trader trades | торгов- торговл- трейдинг- трэйдинг- | сауда- трейдинг- | تجاره
transport | transport transportation | транспорт- транспортн- перевоз- | көлік- тасымал- | نقل
trust | trust | трест- | трест- | 
tunisia | tunisia tunisian tunisien | тунис- тунисск- | тунис- | تونس تونسي
union | union ittihad itihad itihaad ittehad ittihaad | союз- иттихад- | одақ- | اتحاد
united | united unified muttahida muttahid | объединенн- муттахид- | біріккен- | متحد متحده موحد
university | university | университет- | университет- | جامعه
west | west western | запад- западн- | батыс- | غرب غربي
world | world | мир- миров- всемирн- | әлем- дүниежүзі- дүниежүзілік- | عالم
yemen | yemen yemeni | йемен- йеменск- | йемен- | اليمن يمني
youth | youth shabab | молодеж- молодежн- шабаб- | жастар- | شباب
"""

#: Function words of Russian and Kazakh organisation names ("комитет по ...", "банк для ..."):
#: rewritten to an English stopword, so they weigh like "of" does.
_FUNCTION_WORDS = {w: "of" for w in "по для при на в во с со от из им имени к о об".split()}

_RU_ENDINGS = frozenset(
    """_ а я ы и у ю е о ом ем ём ой ей ою ею ам ям ами ями ах ях ов ев ь ью ья ье ьи ий ия ии ие ию ием иям иями
    иях ый ая яя ое ее ые ого его ому ему ым им ую юю ых их ыми ими с""".split()
) | {""}  # "с": an English plural written letter for sound (Энгинирс: Engineers)
_KK_ENDING = re.compile(
    "(?:лар|лер|дар|дер|тар|тер)?"
    "(?:лық|лік|дық|дік|тық|тік|лы|лі|ды|ді|ты|ті|шы|ші)?"
    "(?:лар|лер|дар|дер|тар|тер)?"
    "(?:ы|і|сы|сі|ғы|гі|қы|кі)?"
    "(?:ның|нің|дың|дің|тың|тің|на|не|ға|ге|қа|ке|а|е|да|де|та|те|нда|нде|дан|ден|тан|тен|нан|нен|мен|бен|пен)?"
)

#: Kazakh stem-final consonants voiced before a vowel suffix.
_KK_VOICED = {"қ": "ғ", "к": "г", "п": "б"}

#: Letter variants folded before lookup, the Persian and Urdu letters included (ی ک ھ ہ ۃ:
#: تنظیم جیش is written so in Pashto, Persian and Urdu names of Arabic words).
_ARABIC_FOLD = str.maketrans(
    {
        "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي", "ؤ": "و", "ئ": "ي", "ـ": None,
        "ی": "ي", "ې": "ي", "ک": "ك", "ھ": "ه", "ہ": "ه", "ۃ": "ه", "ە": "ه",
    }
)  # fmt: skip
_ARABIC_MARKS = re.compile("[\u064b-\u065f\u0670]")
_ARABIC_PREFIXES = ("وال", "بال", "فال", "كال", "لل", "ال", "و", "ب", "ل", "ف")


def _arabic_form(word: str) -> str:
    return _ARABIC_MARKS.sub("", word).translate(_ARABIC_FOLD)


def _cyrillic_form(word: str) -> str:
    return word.lower().replace("ё", "е")


def _load() -> tuple[dict[str, str], dict[str, str], dict[str, str], dict[str, str], tuple[str, ...]]:
    latin: dict[str, str] = {}
    exact: dict[str, str] = dict(_FUNCTION_WORDS)  # Cyrillic whole words
    stems: dict[str, str] = {}
    arabic: dict[str, str] = {}
    concepts: list[str] = []
    for line in _TABLE.strip().splitlines():
        concept_token, en, ru, kk, ar = (field.strip() for field in line.split("|"))
        concepts.append(concept_token)
        for form in en.split():
            latin.setdefault(form, concept_token)
            if not form.endswith("s"):
                latin.setdefault(form + "s", concept_token)
        latin.setdefault(concept_token, concept_token)
        for form in (*ru.split(), *kk.split()):
            form = _cyrillic_form(form)
            if form.endswith("-"):
                stems.setdefault(form[:-1], concept_token)
                if form[-2] in _KK_VOICED:  # Kazakh одақ + ы = одағы, серіктестік + і = серіктестігі
                    stems.setdefault(form[:-2] + _KK_VOICED[form[-2]], concept_token)
            else:
                exact.setdefault(form, concept_token)
        for form in ar.split():
            arabic.setdefault(_arabic_form(form), concept_token)
    return latin, exact, stems, arabic, tuple(concepts)


_LATIN, _CYRILLIC_EXACT, _CYRILLIC_STEMS, _ARABIC, CONCEPTS = _load()
_MIN_STEM = 3

#: A Latin word this long or longer that is one typo (optimal string alignment: a letter
#: dropped, added, replaced, or two swapped) from a vocabulary form reads as that form's
#: concept: Finsnce / Finance, Egyptiaan / Egyptian, Mouvement / Movement. Shorter words are
#: left alone, where a typo is too often another word (Marina / Marine, Forbes / Force).
MIN_TYPO_LETTERS = 7
#: Latin forms that a typo could be one edit from, by (first letter, length).
_LATIN_BY_HEAD: dict[tuple[str, int], list[str]] = defaultdict(list)
for _form in _LATIN:
    if len(_form) >= MIN_TYPO_LETTERS - 1:
        _LATIN_BY_HEAD[(_form[0], len(_form))].append(_form)
del _form


def _latin_typo(word: str) -> str | None:
    """The concept of the one vocabulary form `word` is a typo of (same first letter; one
    edit), or None: none, several concepts, or a generic word (company, holding: a person's
    name a letter from one, Hilding / Holding, would lose all its weight)."""
    if len(word) < MIN_TYPO_LETTERS:
        return None
    found: set[str] = set()
    for size in (len(word) - 1, len(word), len(word) + 1):
        for form in _LATIN_BY_HEAD.get((word[0], size), ()):
            if OSA.distance(word, form, score_cutoff=1) <= 1:
                found.add(_LATIN[form])
    if len(found) != 1:
        return None
    hit = found.pop()
    return None if hit in GENERIC_ORG_WORDS else hit


def vocabulary_size() -> dict[str, int]:
    """How many concepts and word forms the vocabulary holds (for tests and documentation)."""
    return {
        "concepts": len(CONCEPTS),
        "latin_forms": len(_LATIN),
        "cyrillic_forms": len(_CYRILLIC_EXACT) + len(_CYRILLIC_STEMS),
        "arabic_forms": len(_ARABIC),
    }


def _cyrillic_concept(word: str) -> str | None:
    w = _cyrillic_form(word)
    hit = _CYRILLIC_EXACT.get(w)
    if hit is not None:
        return hit
    for k in range(len(w), _MIN_STEM - 1, -1):
        stem = _CYRILLIC_STEMS.get(w[:k])
        if stem is not None:
            ending = w[k:]
            if ending in _RU_ENDINGS or _KK_ENDING.fullmatch(ending):
                return stem
    return None


def _arabic_concept(word: str) -> str | None:
    w = _arabic_form(word)
    hit = _ARABIC.get(w)
    if hit is not None:
        return hit
    for prefix in _ARABIC_PREFIXES:
        if w.startswith(prefix) and len(w) - len(prefix) >= 3:
            hit = _ARABIC.get(w[len(prefix) :])
            if hit is not None:
                return hit
            if prefix in ("و", "ب", "ف") and w[1:].startswith("ال"):
                continue  # handled by the longer prefixes above
    return None


@lru_cache(maxsize=50_000)
def concept(word: str) -> str | None:
    """The concept token one word of an organisation's name stands for, in any of the four
    languages (Корейская -> korea, сауда -> trading, للتجارة -> trading, Trade -> trading), or
    None when the word is not in the vocabulary."""
    if not word:
        return None
    if word.isascii():
        lowered = word.lower()
        return _LATIN.get(lowered) or _latin_typo(lowered)
    first = word[0]
    if "\u0400" <= first <= "\u04ff":
        return _cyrillic_concept(word)
    if "\u0600" <= first <= "\u06ff":
        return _arabic_concept(word)
    return None


_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


#: Compounds written with a hyphen or a space whose parts mean one concept together.
_PHRASES = ((re.compile(r"\bтау[-\s]+(?=кен)", re.IGNORECASE), ""), (re.compile(r"\bнаучно-(?=исследоват)", re.IGNORECASE), ""))


def rewrite(text: str) -> str:
    """`text` with each vocabulary word replaced by its concept token, everything else (other
    words, punctuation, spacing) as written."""
    if not text.isascii():
        for pattern, replacement in _PHRASES:
            text = pattern.sub(replacement, text)
    return _WORD.sub(lambda m: concept(m.group()) or m.group(), text)
