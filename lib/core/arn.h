/* arn — the one builder of the Amazon Resource Names evkit shows for
 * what it stands in for (SQS queues, Lambda functions, EventBridge
 * rules): "arn:aws:SERVICE:REGION:000000000000:RESOURCE". */
#ifndef EVKIT_ARN_H
#define EVKIT_ARN_H

/* The region as the AWS CLI finds it: $AWS_REGION, $AWS_DEFAULT_REGION,
 * else "us-east-1". */
const char *arn_region(void);

/* The ARN of prefix and name joined (prefix "rule/", name "r"), malloc'd;
 * region NULL is arn_region(). */
char *arn_make(const char *service, const char *region, const char *prefix, const char *name);

#endif
