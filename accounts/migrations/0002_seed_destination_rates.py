from decimal import Decimal

import phonenumbers
from django.db import migrations

# Credits per SMS segment. France is the unit (1 credit = one 160-character SMS to France);
# other destinations cost what operators charge relative to it. Staff edit these in admin.
RATES = {
    "FR": ("France", "1.00"),
    "MC": ("Monaco", "1.60"),
    "RE": ("Réunion", "1.90"),
    "GP": ("Guadeloupe", "1.90"),
    "MQ": ("Martinique", "1.90"),
    "GF": ("Guyane française", "1.90"),
    "YT": ("Mayotte", "2.00"),
    "PM": ("Saint-Pierre-et-Miquelon", "2.50"),
    "NC": ("Nouvelle-Calédonie", "2.50"),
    "PF": ("Polynésie française", "2.50"),
    "BE": ("Belgique", "1.65"),
    "LU": ("Luxembourg", "1.50"),
    "CH": ("Suisse", "1.40"),
    "DE": ("Allemagne", "1.55"),
    "AT": ("Autriche", "1.75"),
    "NL": ("Pays-Bas", "1.60"),
    "ES": ("Espagne", "1.35"),
    "PT": ("Portugal", "1.10"),
    "IT": ("Italie", "1.40"),
    "IE": ("Irlande", "1.35"),
    "GB": ("Royaume-Uni", "0.90"),
    "PL": ("Pologne", "0.70"),
    "CZ": ("Tchéquie", "1.10"),
    "SK": ("Slovaquie", "1.20"),
    "HU": ("Hongrie", "1.30"),
    "RO": ("Roumanie", "1.20"),
    "BG": ("Bulgarie", "1.40"),
    "GR": ("Grèce", "1.00"),
    "HR": ("Croatie", "1.30"),
    "SI": ("Slovénie", "1.30"),
    "DK": ("Danemark", "0.90"),
    "SE": ("Suède", "1.00"),
    "FI": ("Finlande", "1.20"),
    "NO": ("Norvège", "1.00"),
    "EE": ("Estonie", "1.40"),
    "LV": ("Lettonie", "1.30"),
    "LT": ("Lituanie", "0.80"),
    "CY": ("Chypre", "1.00"),
    "MT": ("Malte", "1.20"),
    "MA": ("Maroc", "2.00"),
    "DZ": ("Algérie", "2.50"),
    "TN": ("Tunisie", "2.50"),
    "SN": ("Sénégal", "2.50"),
    "CI": ("Côte d'Ivoire", "2.50"),
    "CM": ("Cameroun", "2.50"),
    "US": ("États-Unis", "0.50"),
    "CA": ("Canada", "0.50"),
    "BR": ("Brésil", "1.20"),
    "IN": ("Inde", "0.50"),
    "AU": ("Australie", "1.00"),
}


def seed(apps, schema_editor):
    DestinationRate = apps.get_model("accounts", "DestinationRate")
    DestinationRate.objects.bulk_create(
        [
            DestinationRate(
                country=country,
                name=name,
                calling_code=phonenumbers.country_code_for_region(country),
                credits_per_segment=Decimal(rate),
            )
            for country, (name, rate) in RATES.items()
        ],
        ignore_conflicts=True,
    )


def unseed(apps, schema_editor):
    apps.get_model("accounts", "DestinationRate").objects.filter(country__in=RATES).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
