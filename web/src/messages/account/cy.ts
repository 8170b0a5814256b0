// Cymraeg for the account's own screens. Every English key has its Welsh: the type says so.
import type { en } from "./en";

export const cy: Record<keyof typeof en, string> = {
  "forgot.link": "Wedi anghofio eich cyfrinair?",
  "forgot.title": "Wedi anghofio eich cyfrinair",
  "forgot.intro":
    "Teipiwch y cyfeiriad e-bost neu'r rhif ffôn symudol rydych chi'n ei ddefnyddio gyda Kith. Byddwn yn anfon dolen atoch i ddewis cyfrinair newydd.",
  "forgot.email": "Eich cyfeiriad e-bost neu eich rhif ffôn symudol",
  "forgot.emailHint": "Mae rhif ffôn yn dechrau gyda + a'r wlad, fel +44 7700 900123.",
  "forgot.submit": "Anfon dolen ataf",
  "forgot.sent":
    "Os oes gan Kith gyfrif gyda'r cyfeiriad e-bost neu'r rhif ffôn hwn, mae dolen ar ei ffordd ato, drwy e-bost neu neges destun. Mae'r ddolen yn gweithio unwaith, ac am gyfnod byr yn unig. Gall gymryd ychydig funudau i gyrraedd.",
  "forgot.again": "Heb gyrraedd? Edrychwch yn eich post sothach, yna gofynnwch eto.",
  "forgot.noEmail": "Teipiwch eich cyfeiriad e-bost neu eich rhif ffôn symudol, os gwelwch yn dda.",

  "reset.title": "Dewis cyfrinair newydd",
  "reset.intro": "Teipiwch eich cyfrinair newydd ddwywaith, er mwyn i ni wybod ei fod yn gywir.",
  "reset.password": "Cyfrinair newydd",
  "reset.hint": "O leiaf 8 llythyren, rhif neu symbol.",
  "reset.again": "Teipiwch y cyfrinair newydd eto",
  "reset.show": "Dangos y cyfrineiriau",
  "reset.submit": "Cadw fy nghyfrinair newydd",
  "reset.tooShort": "mae angen o leiaf 8 llythyren, rhif neu symbol",
  "reset.tooLong": "gall fod ag uchafswm o 256 llythyren, rhif neu symbol",
  "reset.different": "nid yw yr un fath â'r cyfrinair newydd",
  "reset.fix": "Cywirwch y rhain, os gwelwch yn dda:",
  "reset.done":
    "Mae eich cyfrinair wedi newid. Er eich diogelwch, rydych wedi cael eich allgofnodi ym mhobman. Mewngofnodwch gyda'ch cyfrinair newydd.",
  "reset.signIn": "Mewngofnodi",
  "reset.badLink":
    "Nid yw'r ddolen hon yn gweithio bellach: efallai ei bod yn rhy hen, neu wedi'i defnyddio'n barod. Gofynnwch am un newydd.",
  "reset.askAgain": "Gofyn am ddolen newydd",

  "verify.title": "Gwirio eich cyfeiriad e-bost",
  "verify.checking": "Yn gwirio eich dolen…",
  "verify.done": "Diolch. Mae eich cyfeiriad e-bost wedi'i wirio.",
  "verify.badLink":
    "Nid yw'r ddolen hon yn gweithio bellach: efallai ei bod yn rhy hen, neu wedi'i defnyddio'n barod.",
  "verify.start": "Mynd i'r dechrau",
  "verify.prompt":
    "Gwiriwch eich cyfeiriad e-bost: anfonon ni ddolen i {email}. Agorwch hi i ddangos mai chi biau'r cyfeiriad.",
  "verify.resend": "Anfon y ddolen eto",
  "verify.resent": "Mae dolen newydd ar ei ffordd i {email}.",
  "verify.verified": "Mae eich cyfeiriad e-bost {email} wedi'i wirio.",

  "emergency.link": "Rhywun i'w hysbysu os na fyddaf yn ateb",
  "emergency.title": "Rhywun i'w hysbysu os na fyddaf yn ateb",
  "emergency.why":
    "Os daw cynorthwyydd i ymweliad ac nad ydych yn ateb y drws, mae Kith yn dweud wrth y person hwn yn ogystal â thîm Kith ei hun, fel y gall rhywun wneud yn siŵr eich bod yn iawn. Mae Kith yn dweud wrthyn nhw ar unrhyw adeg o'r dydd, hyd yn oed yn eich oriau tawel. Nid yw Kith yn anfon dim byd arall atyn nhw.",
  "emergency.none": "Nid ydych wedi enwi neb eto.",
  "emergency.current": "Bydd Kith yn dweud wrth:",
  "emergency.name": "Eu henw",
  "emergency.email": "Eu cyfeiriad e-bost",
  "emergency.phone": "Eu rhif ffôn",
  "emergency.reach": "Rhowch gyfeiriad e-bost, rhif ffôn, neu'r ddau.",
  "emergency.needName": "teipiwch eu henw, os gwelwch yn dda",
  "emergency.needWay": "rhowch gyfeiriad e-bost neu rif ffôn, os gwelwch yn dda",
  "emergency.badEmail": "gwiriwch ef, os gwelwch yn dda: mae cyfeiriad e-bost yn edrych fel enw@example.org",
  "emergency.set": "Enwi rhywun",
  "emergency.change": "Newid pwy yw e",
  "emergency.save": "Cadw",
  "emergency.remove": "Tynnu'r person hwn",
  "emergency.removeSure":
    "Dim ond tîm Kith fydd yn cael gwybod os na fyddwch yn ateb. Tynnu {name}?",
  "emergency.removeYes": "Ie, tynnu nhw",
  "emergency.keep": "Na, eu cadw",
  "emergency.saved":
    "Wedi'i gadw. Bydd Kith yn dweud wrth {name} os na fyddwch yn ateb y drws ar gyfer ymweliad.",
  "emergency.removed": "Wedi'i dynnu. Dim ond tîm Kith fydd yn cael gwybod.",
};
