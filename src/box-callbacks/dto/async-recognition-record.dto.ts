import { Type } from 'class-transformer';
import {
  IsDefined,
  IsNotEmpty,
  IsObject,
  IsString,
  MaxLength,
  ValidateNested,
  ValidationArguments,
  ValidatorConstraint,
  ValidatorConstraintInterface,
  Validate,
} from 'class-validator';
import { hasUnstorableText } from '../../common/storable-text';

/**
 * 13-digit epoch milliseconds; some firmware sends it as a numeric string. Any integer is taken (a box with a
 * wrong clock still identifies its event); times outside the accepted window are a defect (see the mapper).
 */
@ValidatorConstraint({ name: 'epochMillis' })
export class EpochMillisConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return parseEpochMillis(value) !== null;
  }
  defaultMessage(args: ValidationArguments): string {
    return `${args.property} must be epoch milliseconds (an integer, or a string of digits)`;
  }
}

export function parseEpochMillis(value: unknown): number | null {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d{1,16}$/.test(value.trim()) ? Number(value) : NaN;
  // -0 would be stored as 0 but dedup compares what was parsed: one zero.
  return Number.isSafeInteger(n) ? n + 0 : null;
}

/**
 * The license key authenticates the box and names its row: a key with NUL or an unpaired surrogate is refused
 * rather than cleaned, because a cleaned key could be another box's key.
 */
@ValidatorConstraint({ name: 'storableKey' })
export class StorableKeyConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return typeof value !== 'string' || !hasUnstorableText(value);
  }
  defaultMessage(args: ValidationArguments): string {
    return `${args.property} must not contain NUL characters or unpaired UTF-16 surrogates`;
  }
}

export class MediaDeviceInfoDto {
  @IsDefined({ message: 'media_device_info.media_device_id is required' })
  @IsString({ message: 'media_device_info.media_device_id must be a string' })
  @IsNotEmpty({ message: 'media_device_info.media_device_id must not be empty' })
  @MaxLength(128, { message: 'media_device_info.media_device_id must be at most 128 characters' })
  media_device_id: string;

  // The other fields are mapped leniently: a defect there never refuses the record.
  media_device_type?: unknown;
  media_device_ip?: unknown;
  media_device_name?: unknown;
  media_device_url?: unknown;
}

/**
 * The box's "async recognition record" (v2.0 names), as it arrives.
 * Only the fields that identify an event are validated strictly here: anything else the box gets
 * wrong is stored with a defect by the mapper, because a 4xx would block the box's queue for good.
 */
export class AsyncRecognitionRecordDto {
  @IsDefined({ message: 'mq_license_key is required' })
  @IsString({ message: 'mq_license_key must be a string' })
  @IsNotEmpty({ message: 'mq_license_key must not be empty' })
  @MaxLength(128, { message: 'mq_license_key must be at most 128 characters' })
  @Validate(StorableKeyConstraint)
  mq_license_key: string;

  @IsDefined({ message: 'timestamp is required' })
  @Validate(EpochMillisConstraint)
  timestamp: number | string;

  @IsDefined({ message: 'media_device_info.media_device_id is required' })
  @IsObject({ message: 'media_device_info must be an object' })
  @ValidateNested()
  @Type(() => MediaDeviceInfoDto)
  media_device_info: MediaDeviceInfoDto;

  api_version?: unknown;
  identity_id?: unknown;
  identity_name?: unknown;
  score?: unknown;
  post_action?: unknown;
  user_type?: unknown;
  in_timestamp?: unknown;
  out_timestamp?: unknown;
  reg_image?: unknown;
  spot_image?: unknown;
  ir_image?: unknown;
  recognize_face_image?: unknown;
  recognize_face_attr?: unknown;
  [extra: string]: unknown;
}
