"""Running jobs (`app.services.jobs`) on Dramatiq workers, or in the calling process.

`queue` connects to the broker named by JIXIAO_BROKER_URL (Redis `redis://…` or RabbitMQ
`amqp://…`) and sends a job's id to the workers; `worker` is `jixiao worker`. Without a
broker a job runs in the process that submitted it. May import app.store and app.services.
"""
