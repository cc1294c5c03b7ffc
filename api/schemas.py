"""Request and response bodies, with OVHcloud's field names (`sms.*` models of /1.0/sms)."""

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from ninja import Field, Schema


class Error(Schema):
    message: str
    errorCode: str | None = None
    httpCode: str | None = None


# 409: a conflict (a name already taken, an Idempotency-Key used for another request).
ERRORS = {400: Error, 401: Error, 403: Error, 404: Error, 409: Error, 429: Error}


def responses(schema) -> dict:
    """The success schema and the error shape every route can answer with."""
    return {200: schema, **ERRORS}


class AccessRule(Schema):
    method: Literal["GET", "POST", "PUT", "DELETE"]
    path: str = Field(..., min_length=1, max_length=200, pattern=r"^/")


class CredentialIn(Schema):
    accessRules: list[AccessRule] = Field(..., min_length=1)
    redirection: str | None = Field(None, max_length=500)


class CredentialOut(Schema):
    validationUrl: str
    consumerKey: str
    state: Literal["pendingValidation", "validated"]


class CurrentCredential(Schema):
    credentialId: int
    applicationId: int
    status: Literal["pendingValidation", "validated", "refused", "revoked", "expired"]
    rules: list[AccessRule]
    creation: datetime
    expiration: datetime | None
    lastUse: datetime | None


class TrackingOption(Schema):
    media: Literal["email", "sms", "voice"]
    sender: str = Field(..., max_length=64)
    target: str = Field(..., max_length=255)


class SmsResponse(Schema):
    responseType: Literal["cgi", "none", "text"]
    cgiUrl: str | None = Field(None, max_length=500)
    text: str | None = Field(None, max_length=1000)
    trackingDefaultSmsSender: str | None = Field(None, max_length=64)
    trackingOptions: list[TrackingOption] | None = None


class Templates(Schema):
    customizedEmailMode: bool = False
    customizedSmsMode: bool = False
    emailBody: str | None = Field(None, max_length=10_000)
    emailFrom: str | None = Field(None, max_length=255)
    emailSubject: str | None = Field(None, max_length=255)
    smsBody: str | None = Field(None, max_length=1000)


RecreditAmount = Literal["100", "200", "250", "500", "1000", "5000", "10000"]


class AccountOut(Schema):
    name: str
    description: str
    status: Literal["enable", "disable"]
    creditsLeft: float
    creditsHoldByQuota: float = 0
    creditThresholdForAutomaticRecredit: float
    automaticRecreditAmount: RecreditAmount | None = None
    callBack: str | None = None
    stopCallBack: str | None = None
    channel: Literal["both", "marketing", "transactional"] = "both"
    smpp: bool = False
    smsResponse: SmsResponse
    templates: Templates
    userQuantityWithQuota: int = 0


SenderType = Literal["alpha", "numeric", "shortcode", "virtual"]


class EstimateIn(Schema):
    message: str = Field(..., max_length=100_000)
    noStopClause: bool = False
    senderType: SenderType = "alpha"


class EstimateOut(Schema):
    characters: int
    charactersClass: Literal["7bits", "unicode"]
    maxCharactersPerPart: int
    parts: int


class JobIn(Schema):
    message: str = Field(..., max_length=100_000)
    receivers: list[str] | None = Field(None, max_length=100_000)
    receiversSlotId: str | None = None
    receiversDocumentUrl: str | None = None
    sender: str | None = Field(None, max_length=16)
    senderForResponse: bool = False
    noStopClause: bool = False
    sms_class: Literal["flash", "phoneDisplay", "sim"] = Field("phoneDisplay", alias="class")
    coding: Literal["7bit", "8bit"] | None = None
    charset: Literal["UTF-8"] | None = None
    differedPeriod: int | None = Field(None, ge=0, le=525_600)
    validityPeriod: int | None = Field(None, ge=1, le=525_600)
    priority: Literal["high", "low", "medium", "veryLow"] | None = None
    tag: str | None = Field(None, max_length=64)


class SendingReport(Schema):
    ids: list[int]
    tag: str = ""
    invalidReceivers: list[str]
    validReceivers: list[str]
    totalCreditsRemoved: float


class JobOut(Schema):
    id: int
    creationDatetime: datetime
    credits: float
    deliveryReceipt: int
    differedDelivery: int
    message: str
    messageLength: int
    numberOfSms: int
    ptt: int
    receiver: str
    sender: str
    sentAt: datetime | None = None
    deliveredAt: datetime | None = None


class OutgoingOut(JobOut):
    tag: str
    tariffCode: str
    # A campaign's id (issue #20) and an SMPP message id: none for messages sent by /jobs.
    batchID: UUID | None = None
    messageID: UUID | None = None


class IncomingOut(Schema):
    id: int
    creationDatetime: datetime
    credits: float
    message: str
    sender: str
    tag: str


class SenderIn(Schema):
    # The limits of the panel's form (senders.validators, the Sender model).
    sender: str = Field(..., min_length=1, max_length=11)
    description: str | None = Field(None, max_length=40)
    reason: str | None = Field(None, max_length=250)


class SenderUpdate(Schema):
    description: str | None = Field(None, max_length=40)
    status: Literal["enable", "disable"] | None = None


class SenderAvailable(Schema):
    sender: str
    referer: Literal["domain", "nichandle"]


class SenderOut(Schema):
    sender: str
    description: str
    status: Literal["disable", "enable", "refused", "waitingValidation"]
    referer: Literal["custom", "domain", "line", "nic", "owner", "virtual"]
    type: SenderType | None = None
    comment: str | None = None
    validationMedia: str | None = None


class PhonebookIn(Schema):
    name: str = Field(..., min_length=1, max_length=50)


class PhonebookOut(Schema):
    bookKey: str
    name: str
    phoneKey: str


class ContactIn(Schema):
    surname: str = Field(..., max_length=245)
    name: str = Field(..., max_length=245)
    group: str = Field(..., max_length=50)
    homeMobile: str | None = Field(None, max_length=64)
    homePhone: str | None = Field(None, max_length=64)
    workMobile: str | None = Field(None, max_length=64)
    workPhone: str | None = Field(None, max_length=64)


class ContactOut(Schema):
    id: int
    surname: str
    name: str
    group: str
    homeMobile: str | None = None
    homePhone: str | None = None
    workMobile: str | None = None
    workPhone: str | None = None


class ReceiverOut(Schema):
    slotId: int
    description: str
    records: int
    datetime: datetime
    autoUpdate: bool = False
    canAutoUpdate: bool = False


class CleanIn(Schema):
    freemium: bool
    priceOnly: bool = False


class CleanOut(Schema):
    taskId: int
    totalCreditsRemoved: float


class BlacklistOut(Schema):
    number: str
    dateCreation: datetime
    batchID: UUID | None = None
    smsOutgoingID: int | None = None


class TransferIn(Schema):
    credits: float = Field(..., gt=0, le=1_000_000_000)
    smsAccountTarget: str = Field(..., max_length=64)


class DocumentIn(Schema):
    name: str = Field(..., min_length=1, max_length=255)


class DocumentOut(Schema):
    id: str
    name: str
    size: int
    putUrl: str
    getUrl: str
    creationDate: datetime
    expirationDate: datetime
    tags: list[dict] = []


class ReceiverIn(Schema):
    slotId: int = Field(..., ge=1, le=9)
    description: str = Field(..., min_length=1, max_length=40)
    autoUpdate: bool = False
    csvUrl: str | None = Field(None, max_length=2000)
    documentId: str | None = Field(None, max_length=64)


class ImportIn(Schema):
    documentId: str = Field(..., max_length=64)


class TaskOut(Schema):
    taskId: int
    function: str
    status: Literal["todo", "doing", "done", "error", "pause"]


class AccountUpdate(Schema):
    description: str | None = Field(None, max_length=100)
    callBack: str | None = Field(None, max_length=500)
    stopCallBack: str | None = Field(None, max_length=500)
    automaticRecreditAmount: RecreditAmount | None = None
    creditThresholdForAutomaticRecredit: float | None = Field(None, ge=0, le=1_000_000_000)
    smsResponse: SmsResponse | None = None
    templates: Templates | None = None


class Renew(Schema):
    automatic: bool
    deleteAtExpiration: bool
    forced: bool
    manualPayment: bool | None = None
    period: int | None = Field(None, ge=1, le=120)


class ServiceInfos(Schema):
    canDeleteAtExpiration: bool
    contactAdmin: str
    contactBilling: str
    contactTech: str
    creation: date
    domain: str
    engagedUpTo: date | None = None
    expiration: date
    possibleRenewPeriod: list[int] | None = None
    renew: Renew | None = None
    renewalType: Literal["automaticForcedProduct", "automaticV2012", "automaticV2014",
                         "automaticV2016", "manual", "oneShot", "option"]  # fmt: skip
    serviceId: int
    status: Literal["expired", "inCreation", "ok", "pendingDebt", "unPaid"]


class ServiceInfosUpdate(Schema):
    renew: Renew | None = None


# --- SMS users (sms.User) -----------------------------------------------------------------------

LOGIN = r"^[A-Za-z0-9_.-]{3,32}$"


class UserIn(Schema):
    login: str = Field(..., pattern=LOGIN)
    password: str = Field(..., min_length=8, max_length=64)


class Quota(Schema):
    quotaLeft: float = Field(..., ge=0, le=1_000_000_000)
    quotaStatus: Literal["active", "inactive"]


class AlertThreshold(Schema):
    alertEmail: str = Field("", max_length=254)
    alertNumber: str = Field("", max_length=16)  # E.164: "+" and at most 15 digits (the column)
    alertThreshold: int = Field(0, ge=0, le=1_000_000_000)
    support: Literal["both", "mail", "sms"] = "mail"


class UserOut(Schema):
    login: str
    # Kept as a hash: never shown back (an empty password in a PUT leaves it unchanged).
    password: str = ""
    ipRestrictions: list[str]
    quotaInformations: Quota
    alertThresholdInformations: AlertThreshold
    callBack: str | None = None
    stopCallBack: str | None = None


class UserUpdate(Schema):
    password: str | None = Field(None, max_length=64)
    ipRestrictions: list[str] | None = Field(None, max_length=100)
    quotaInformations: Quota | None = None
    alertThresholdInformations: AlertThreshold | None = None
    callBack: str | None = Field(None, max_length=500)
    stopCallBack: str | None = Field(None, max_length=500)


class ReceiverUpdate(Schema):
    description: str | None = Field(None, max_length=40)
    autoUpdate: bool | None = None


class SmsTask(Schema):
    function: Literal["cleanSmsReceivers"]
    status: Literal["doing", "done", "error", "pause", "todo"]
    step: Literal["checkOrder", "createHlrs", "finishing", "sendMailReport", "starting",
                  "waitForHlrs"]  # fmt: skip
    taskId: int
