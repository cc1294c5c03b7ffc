FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update && apt-get install -y --no-install-recommends gettext && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
RUN pip install --no-cache-dir -e .
COPY . .
RUN python manage.py compilemessages --ignore=.venv \
 && DEBUG=0 SECRET_KEY=build REDIS_URL=redis://unused:6379/0 python manage.py collectstatic --noinput
EXPOSE 8000
# Sync workers (README, Production): behind a buffering proxy the cheapest per request;
# smspanel.wsgi answers tracked short links before Django's middleware.
CMD ["gunicorn", "smspanel.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3"]
