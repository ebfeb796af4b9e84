import json
import re

from django.db import migrations, models

# An uploaded image's public URL in a prediction's input: {PUBLIC_URL}/inputs/<token>/.
TOKEN_URL = re.compile(r"/inputs/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/")
BATCH = 1000


def link_by_token(apps, schema_editor):
    """Link every uploaded image to the predictions whose input names its token."""
    InputImage = apps.get_model("predictions", "InputImage")
    Prediction = apps.get_model("predictions", "Prediction")
    Link = InputImage.predictions.through
    images = {str(token): pk for pk, token in InputImage.objects.values_list("pk", "token")}
    if not images:
        return
    links = []
    rows = Prediction.objects.filter(input__icontains="/inputs/").values_list("pk", "input")
    for prediction_id, data in rows.iterator(chunk_size=BATCH):
        for token in set(TOKEN_URL.findall(json.dumps(data))):
            if token in images:
                links.append(Link(inputimage_id=images[token], prediction_id=prediction_id))
        if len(links) >= BATCH:
            Link.objects.bulk_create(links, ignore_conflicts=True)
            links = []
    Link.objects.bulk_create(links, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("predictions", "0006_prediction_language"),
    ]

    operations = [
        migrations.AddField(
            model_name="inputimage",
            name="predictions",
            field=models.ManyToManyField(blank=True, related_name="input_images", to="predictions.prediction"),
        ),
        migrations.RunPython(link_by_token, migrations.RunPython.noop, elidable=True),
    ]
