# The usage report reads all schools' logbook entries of a window by date
# (reports.usage); log_project_date only serves one project's entries.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('projects', '0001_initial'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='logentry',
            index=models.Index(fields=['date'], name='log_date'),
        ),
    ]
