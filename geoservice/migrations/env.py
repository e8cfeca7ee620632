from alembic import context
from sqlalchemy import create_engine

config = context.config
# geoservice.migrate sets the URL; migrations import no application code.
url = config.get_main_option("sqlalchemy.url")

connectable = create_engine(url)
with connectable.connect() as connection:
    context.configure(connection=connection, transactional_ddl=True)
    with context.begin_transaction():
        context.run_migrations()
connectable.dispose()
