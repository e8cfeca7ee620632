from alembic import context
from sqlalchemy import create_engine

from geoservice.db import sqlalchemy_url

config = context.config
url = config.get_main_option("sqlalchemy.url") or sqlalchemy_url()

connectable = create_engine(url)
with connectable.connect() as connection:
    context.configure(connection=connection, transactional_ddl=True)
    with context.begin_transaction():
        context.run_migrations()
connectable.dispose()
